#!/usr/bin/env bash
# What a voice call says, without a call: `pagegate render --channel
# voice` writes the WAV a call plays.
#  - English (flite) at 16 kHz is transcribed by pocketsphinx, standing
#    in for a listener: the greeting names the person and asks to "press
#    one", the message names the caller;
#  - a Greek client (language = "el") is read in Greek: the message's
#    samples are exactly what espeak-ng's own program says for the
#    expected Greek text with its Greek voice, and not what it says with
#    its English voice for the same text or for a transliteration;
#  - the same message renders to the same samples twice (deterministic);
#  - mistakes are told: an unknown language, a bad --set.
. "$(dirname "$0")/lib.sh"
write_config
cat >>"$T/etc/pagegate.conf" <<'CONF'
sip = ( { name = "trunk"; proxy = "sip:127.0.0.1:5999"; from = "sip:pagegate@pagegate.test"; } );
CONF
cat >"$T/etc/clients/acme.conf" <<'CONF'
id = "acme";
name = "Acme";
timezone = "America/Chicago";
contacts = ( { id = "jane"; name = "Jane Ortiz";
               devices = ( { channel = "voice"; to = "+15555550111"; } ); } );
rules = ( { notify = "contact:jane"; } );
CONF
cat >"$T/etc/clients/hellas.conf" <<'CONF'
id = "hellas";
name = "Κλινική Αθηνών";
timezone = "Europe/Athens";
language = "el";
contacts = ( { id = "maria"; name = "Μαρία Παπαδοπούλου";
               devices = ( { channel = "voice"; to = "+302101234567"; } ); } );
rules = ( { notify = "contact:maria"; } );
templates = {
  voice_txt = "{{client.name}}, με μήνυμα για {{contact.name}}. Πατήστε 1 για να το ακούσετε.\n---\nΜήνυμα από {{caller.name}}, τηλέφωνο {{caller.phone}}.\n{{text}}\n---\nΠατήστε 1 για επιβεβαίωση, 2 για να το ακούσετε ξανά, 3 για να το δώσετε στον επόμενο.\n---\nΕυχαριστούμε. Το μήνυμα επιβεβαιώθηκε. Αντίο.\n---\nΤο μήνυμα πηγαίνει τώρα στον επόμενο. Αντίο.";
};
CONF
R() { "$BUILD/pagegate" render -c "$T/etc/pagegate.conf" --channel voice "$@"; }
printf '%s' '{"client":"acme","urgency":"urgent","caller":{"name":"John Smith","phone":"+1 555 555 0142"},"text":"The furnace is out and the house is cold."}' >"$T/en.json"
printf '%s' '{"client":"hellas","urgency":"urgent","caller":{"name":"Νίκος Γεωργίου","phone":"210 555 0142"},"text":"Ο ασθενής έχει πυρετό και ζητά να τον καλέσετε."}' >"$T/el.json"

# ---- English, heard by pocketsphinx ----
check "render writes the English call at 16 kHz" R --message "$T/en.json" --contact jane --set rate=16000 -o "$T/en16.wav"
check_eq "a 16 kHz mono 16-bit WAV" "16000 1 16" "$(soxi -r "$T/en16.wav") $(soxi -c "$T/en16.wav") $(soxi -b "$T/en16.wav")"
pocketsphinx_continuous -infile "$T/en16.wav" -logfn /dev/null 2>/dev/null >"$T/heard.txt"
check "pocketsphinx hears the greeting: a message for jane" grep -q "message for jane" "$T/heard.txt"
check "pocketsphinx hears 'press one'" grep -q "press one" "$T/heard.txt"
check "pocketsphinx hears the caller's name" grep -q "john smith" "$T/heard.txt"
R --message "$T/en.json" --contact jane -o "$T/en.wav" 2>"$T/en.summary"
check_eq "the call's own audio is 8 kHz" 8000 "$(soxi -r "$T/en.wav")"
check "the summary says flite spoke English" grep -q 'language en (flite)' "$T/en.summary"
R --message "$T/en.json" --contact jane -o "$T/en2.wav" 2>/dev/null
check "the same message renders to the same samples" cmp -s "$T/en.wav" "$T/en2.wav"

# ---- Greek, read in Greek ----
check "render writes the Greek message part at espeak-ng's own rate" \
  R --message "$T/el.json" --contact maria --set part=message --set rate=native -o "$T/el.wav"
check "the summary says espeak-ng spoke Greek" \
  bash -c "'$BUILD/pagegate' render -c '$T/etc/pagegate.conf' --channel voice --message '$T/el.json' --contact maria -o '$T/el-all.wav' 2>&1 | grep -q 'language el (espeak-ng)'"
TEXT="Μήνυμα από Νίκος Γεωργίου, τηλέφωνο 210 555 0142.
Ο ασθενής έχει πυρετό και ζητά να τον καλέσετε."
espeak-ng -v el -s 150 -w "$T/ref-el.wav" "$TEXT"
espeak-ng -v en -s 150 -w "$T/ref-en.wav" "$TEXT"
espeak-ng -v en -s 150 -w "$T/ref-translit.wav" "Minima apo Nikos Georgiou, tilefono 210 555 0142.
O asthenis echei pyreto kai zita na ton kalesete."
m=$("$BUILD/peers/voice_match" "$T/ref-el.wav" "$T/el.wav")
check_eq "the Greek message is, sample for sample, espeak-ng's Greek voice saying the expected text" \
  "1 0" "$(sed -n 's/.* count=\([0-9]*\) .*/\1/p' <<<"$m") $(sed -n 's/^uncovered=\([0-9]*\) .*/\1/p' <<<"$m")"
check_eq "it is not espeak-ng's English voice reading the Greek text" 0 \
  "$("$BUILD/peers/voice_match" --tol 200 "$T/ref-en.wav" "$T/el.wav" | sed -n 's/.* count=\([0-9]*\) .*/\1/p')"
check_eq "nor an English voice reading a transliteration" 0 \
  "$("$BUILD/peers/voice_match" --tol 200 "$T/ref-translit.wav" "$T/el.wav" | sed -n 's/.* count=\([0-9]*\) .*/\1/p')"
check "a device may set its own language: maria's message in English is flite's" \
  bash -c "'$BUILD/pagegate' render -c '$T/etc/pagegate.conf' --channel voice --message '$T/el.json' --contact maria --set language=en -o '$T/x.wav' 2>&1 | grep -q 'language en (flite)'"

# ---- mistakes ----
R --message "$T/el.json" --contact maria --set language=xx-nosuch -o "$T/bad.wav" 2>"$T/err"; rc=$?
check_eq "an unknown language fails" 1 "$rc"
check "and says so" grep -q 'espeak-ng has no voice for language "xx-nosuch"' "$T/err"
R --message "$T/en.json" --contact jane --set rate=44100 -o "$T/bad.wav" 2>"$T/err"; rc=$?
check_eq "a bad --set is a usage error" 2 "$rc"
check "naming what the voice takes" grep -q 'rate=8000|16000|native' "$T/err"
check "no file is left by a failed render" test ! -e "$T/bad.wav"
sed -i 's/^language = "el";/language = "e l";/' "$T/etc/clients/hellas.conf"
"$BUILD/pagegate" check -c "$T/etc/pagegate.conf" >"$T/check.out" 2>&1
check "pagegate check names a bad language with its line" \
  grep -q 'hellas.conf:4: bad language "e l": expected a language tag' "$T/check.out"
