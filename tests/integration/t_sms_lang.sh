#!/usr/bin/env bash
# SMS in every language through a real Kannel and its fake SMSC (issue
# 13).  The default sms.txt puts the operator's text first, so a
# 128-character Greek message arrives whole in 3 UCS-2 segments; Chinese,
# Lithuanian and Vietnamese arrive whole, or cut at a word with a visible
# "…" when 3 segments cannot hold them; the replies "1" and "ACK ref"
# still acknowledge (state and ledger); a summary stays GSM-7; an emoji
# never straddles two of Kannel's segments; and with ascii = true (the
# provider's, or a device's) the SMSC receives the GSM-7 transliteration.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/peers/kannel.sh"

INTOK=inbound-$RANDOM$RANDOM$RANDOM-token
NUM=+15555550111; GSMNUM=+15555550122; DEVNUM=+15555550133; SUMNUM=+15555550144
kannel_config "http://127.0.0.1:$HTTP_PORT/cb/sms/kannel/inbound?token=$INTOK&from=%p&to=%P&text=%a&coding=%c&charset=%C"
write_config
cat >>"$T/etc/pagegate.conf" <<CONF
sms = (
  { name = "kannel"; kind = "kannel"; url = "$K_SENDSMS_URL";
    username = "$K_USER"; password = "$K_PASS"; from = "5550000";
    dlr_mask = 0; rate = 0; timeout = 5; connect_timeout = 2; inbound_token = "$INTOK"; },
  { name = "kannel-gsm"; kind = "kannel"; url = "$K_SENDSMS_URL"; ascii = true;
    username = "$K_USER"; password = "$K_PASS"; from = "5550000";
    dlr_mask = 0; rate = 0; timeout = 5; connect_timeout = 2; }
);
CONF
rm -f "$T/etc/clients/test-clinic.conf"
client() {   # ID DEVICE [EXTRA]
  cat >"$T/etc/clients/$1.conf" <<CONF
id = "$1"; name = "Test Clinic"; timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
${3:-}
contacts = ( { id = "oncall"; name = "On call"; devices = ( $2 ); } );
rules = ( { notify = "contact:oncall"; } );
CONF
}
client lang "{ channel = \"sms\"; to = \"$NUM\"; gateway = \"kannel\"; max_segments = 3; }"
client lang-gsm "{ channel = \"sms\"; to = \"$GSMNUM\"; gateway = \"kannel-gsm\"; }"
client lang-dev "{ channel = \"sms\"; to = \"$DEVNUM\"; ascii = true; }"
client lang-sum "{ channel = \"sms\"; to = \"$SUMNUM\"; }" 'content = { sms = "summary"; };'

cleanup_sms() { kannel_stop; cleanup; }
trap cleanup_sms EXIT
kannel_start || exit 1
start_daemon || exit 1

# The last complete SMS to $1 whose text contains $2 (JSON).
sms_with() {
  received | jq -c --arg n "$1" --arg s "$2" \
    'select(.to == $n and .complete and (.text | contains($s)))' | tail -1
}
has_sms() { test -n "$(sms_with "$1" "$2")"; }
acked() { [ "$(msg_json "$1" | jq -r .acknowledged)" = true ]; }
post() {   # CLIENT CALLER_NAME PHONE TEXT
  post_message "$(jq -n --arg c "$1" --arg n "$2" --arg p "$3" --arg t "$4" \
    '{client:$c, caller:{name:$n, phone:$p}, text:$t}')"
}
# How many complete SMS the SMSC received for $1.
n_sms() { received | jq -r --arg n "$1" 'select(.to == $n and .complete) | .to' | wc -l; }
n_sms_above() { [ "$(n_sms "$1")" -gt "$2" ]; }
# send CLIENT NUMBER CALLER PHONE TEXT: posts the message, waits for the
# next SMS to NUMBER and sets id, ref and s (that SMS as JSON).
send() {
  local before; before=$(n_sms "$2")
  id=$(post "$1" "$3" "$4" "$5"); ref=$(msg_json "$id" | jq -r .ack_ref)
  wait_until 20 n_sms_above "$2" "$before" || notok "an SMS to $2 for message $id"
  s=$(received | jq -c --arg n "$2" 'select(.to == $n and .complete)' | tail -1)
}
j() { jq -r "$1" <<<"$s"; }
# The typed text $1 is whole at the start of the SMS, then a line break.
whole() { local t; t=$(j .text); [ "${t:0:${#1}+1}" = "$1"$'\n' ]; }
# The SMS is the start of typed text $1, cut, then "…" (or "...").
cut_of() {
  local t; t=$(j .text); local m=${2:-…}
  [ "${t: -${#m}}" = "$m" ] || return 1
  t=${t:0:${#t}-${#m}}
  [ -n "$t" ] && [ "${1:0:${#t}}" = "$t" ]
}
chars_before_cut() { local t; t=$(j .text); echo $(( ${#t} - 1 )); }

EL='Δεν υπάρχει θέρμανση στο διαμέρισμα 4Β από χθες το βράδυ. Η ηλικιωμένη ένοικος είναι μόνη στο σπίτι. Παρακαλώ, καλέστε την τώρα.'
EL_MORE=' Ο γιος της λέει ότι η πόρτα της πολυκατοικίας είναι κλειδωμένη μετά τις 10 το βράδυ· ο κωδικός είναι 4412. Ο θυρωρός δεν απαντά στο τηλέφωνο. Αν δεν μπορείτε να έρθετε απόψε, ενημερώστε το γραφείο.'
ZH='4B公寓从昨晚起没有暖气。年迈的租户独自在家。请立即给她回电。'
ZH_MORE='她儿子说晚上十点以后大楼的门是锁着的，门禁密码是4412。门卫不接电话。如果您今晚无法前来，请通知办公室。她家里有一个小电暖器，但不够用。她的药在厨房的桌子上。她的邻居住在4C，可以帮忙开门。请在到达之前先打电话给她，她耳朵不太好，电话要多响几声。楼下的停车场晚上也会关闭，请把车停在街对面的超市门口。超市营业到午夜。如果您需要更多的信息，请随时打电话给办公室。'
LT='Bute 4B nuo vakar vakaro neveikia šildymas. Senyvo amžiaus nuomininkė yra viena. Prašome jai nedelsiant paskambinti.'
LT_MORE=' Jos sūnus sako, kad po 22 val. laiptinės durys užrakintos; kodas 4412. Prižiūrėtojas neatsiliepia telefonu. Jei negalite atvykti šįvakar, praneškite biurui.'
VI='Căn hộ 4B không có sưởi từ tối qua. Người thuê nhà lớn tuổi đang ở một mình. Xin vui lòng gọi lại cho bà ngay.'
VI_MORE=' Con trai bà nói cửa tòa nhà bị khóa sau 10 giờ tối; mã cửa là 4412. Người quản lý không nghe máy. Nếu anh không thể đến tối nay, xin báo cho văn phòng.'
EN='No heat in apartment 4B since last night. The elderly tenant is alone. Please call her back right away.'
EN_MORE=' Her son says the building door is locked after 10 pm; the code is 4412. The super does not answer his phone. If you cannot come tonight, let the office know.'

# ---- Greek, 128 characters: whole in 3 UCS-2 segments; "1" acknowledges ----
check_eq "the Greek message is 128 characters" 128 "${#EL}"
send lang "$NUM" "Μαρία Παπαδοπούλου" "+30 210 555 0142" "$EL"
id_el=$id
check "Greek: the typed text arrives whole, first" whole "$EL"
check_eq "Greek: UCS-2, 3 segments" "ucs2 3" "$(j '"\(.coding) \(.segments)"')"
check_eq "Greek: then the caller; the cut falls in the last line and shows" \
  "$EL
Μαρία Παπαδοπούλου +30 210 555 0142 (Test Clinic)
Reply 1 or ACK $ref…" "$(j .text)"
check "Greek: no link in the default SMS" bash -c '! grep -q "/a/" <<<"$1"' _ "$(j .text)"
check "the phone replies \"1\"" kannel_inject "$NUM 5550000 text 1"
check "the reply \"1\" acknowledges the Greek message" wait_until 20 acked "$id_el"
m=$(msg_json "$id_el")
check "acked_by names the phone" grep -qF "$NUM" <<<"$(jq -r .acked_by <<<"$m")"
check_eq "the ledger has one acknowledged event, through sms" "1 true" \
  "$(jq -r '[.ledger[] | select(.type == "acknowledged")] | "\(length) \(.[0].detail | test("sms"))"' <<<"$m")"

# ---- Chinese, Lithuanian, Vietnamese, English: whole with the caller ----
send lang "$NUM" "王秀英" "+86 10 5555 0142" "$ZH"
id_zh=$id
check_eq "Chinese: whole, with the caller and how to acknowledge (2 UCS-2 segments)" \
  "ucs2 2 $ZH
王秀英 +86 10 5555 0142 (Test Clinic)
Reply 1 or ACK $ref to acknowledge" "$(j '"\(.coding) \(.segments) \(.text)"')"
send lang "$NUM" "Ona Kazlauskienė" "+370 5 555 0142" "$LT"
id_lt=$id; ref_lt=$ref
check_eq "Lithuanian: whole, with the caller and how to acknowledge (3 UCS-2 segments)" \
  "ucs2 3 $LT
Ona Kazlauskienė +370 5 555 0142 (Test Clinic)
Reply 1 or ACK $ref to acknowledge" "$(j '"\(.coding) \(.segments) \(.text)"')"
send lang "$NUM" "Bà Nguyễn Thị Hương" "+84 24 5555 0142" "$VI"
id_vi=$id
check_eq "Vietnamese: whole, with the caller and how to acknowledge (3 UCS-2 segments)" \
  "ucs2 3 $VI
Bà Nguyễn Thị Hương +84 24 5555 0142 (Test Clinic)
Reply 1 or ACK $ref to acknowledge" "$(j '"\(.coding) \(.segments) \(.text)"')"
send lang "$NUM" "Ann Lee" "+1 555 555 0142" "$EN"
check_eq "English: whole in GSM-7 (2 segments)" "gsm7 2 $EN
Ann Lee +1 555 555 0142 (Test Clinic)
Reply 1 or ACK $ref to acknowledge" "$(j '"\(.coding) \(.segments) \(.text)"')"

check "the phone replies \"ACK $ref_lt\"" kannel_inject "$NUM 5550000 text ACK $ref_lt"
check "\"ACK ref\" acknowledges the Lithuanian message" wait_until 20 acked "$id_lt"
check_eq "and not the Chinese or the Vietnamese one" "false false" \
  "$(msg_json "$id_zh" | jq -r .acknowledged) $(msg_json "$id_vi" | jq -r .acknowledged)"

# ---- longer than 3 segments hold: cut at a word, visibly ----
for lang in EL ZH LT VI; do
  full_var=${lang}; more_var=${lang}_MORE
  text="${!full_var}${!more_var}"
  send lang "$NUM" "Caller $lang" "+1 555 555 0199" "$text"
  check "$lang long: the SMS is the start of the text, cut with \"…\"" cut_of "$text"
  check_eq "$lang long: UCS-2, 3 segments, every surrogate pair whole" "ucs2 3 true" \
    "$(j '"\(.coding) \(.segments) \(.pairs_ok)"')"
  n=$(chars_before_cut)
  check "$lang long: $n of the ${#text} typed characters reach the phone (at least 180 of 201 units)" \
    test "$n" -ge 180
done

# ---- an emoji where Kannel cuts (unit 67): moved whole to segment 2 ----
OMEGA=$(printf 'Ω%.0s' {1..66})
send lang "$NUM" "Zoë" "555-0143" "${OMEGA}🔥 fire at unit 67"
check "emoji: whole at the phone" whole "${OMEGA}🔥 fire at unit 67"
check_eq "emoji: no segment ends inside its surrogate pair; one filler" "true 1" \
  "$(j '"\(.pairs_ok) \(.zwsp)"')"

# ---- a summary stays GSM-7: "..." instead of "…" ----
send lang-sum "$SUMNUM" "Ann Lee" "+1 555 555 0142" "$EN$EN_MORE"
check_eq "summary: the text cut at a word with \"...\", in one GSM-7 SMS" "gsm7 1 No heat in apartment 4B since last night. The elderly tenant is alone. Please...
Ann Lee +1 555 555 0142 (Test Clinic)
Reply 1 or ACK $ref to acknowledge" "$(j '"\(.coding) \(.segments) \(.text)"')"

# ---- ascii = true: the GSM-7 transliteration reaches the SMSC ----
send lang-gsm "$GSMNUM" "Μαρία Παπαδοπούλου" "+30 210 555 0142" "$EL"
check_eq "provider ascii: Greek arrives transliterated, whole, in GSM-7" "gsm7 2 Den yparchei thermanse sto diamerisma 4B apo chthes to brady. E elikiomene enoikos einai mone sto spiti. Parakalo, kaleste ten tora.
Maria Papadopoulou +30 210 555 0142 (Test Clinic)
Reply 1 or ACK $ref to acknowledge" "$(j '"\(.coding) \(.segments) \(.text)"')"
send lang-gsm "$GSMNUM" "Bà Nguyễn Thị Hương" "+84 24 5555 0142" "$VI"
check_eq "provider ascii: Vietnamese keeps what GSM-7 has (à ì ò), the rest unaccented" "gsm7 2 Can ho 4B khong co suoi tu toi qua. Nguoi thue nhà lon tuoi dang o mot mình. Xin vui lòng goi lai cho bà ngay.
Bà Nguyen Thi Huong +84 24 5555 0142 (Test Clinic)
Reply 1 or ACK $ref to acknowledge" "$(j '"\(.coding) \(.segments) \(.text)"')"
send lang-dev "$DEVNUM" "王秀英" "+86 10 5555 0142" "$ZH$ZH_MORE"
t=$(j .text)
check "device ascii: Chinese arrives as pinyin" \
  bash -c '[[ $1 == "4B gong yu cong zuo wan qi mei you nuan qi. nian mai de zu hu du zi zai jia. "* ]]' _ "$t"
check "device ascii: cut at a word with \"...\" (3 x 153 septets hold 459)" \
  bash -c '[[ $1 == *[a-z0-9.,]... ]] && [ ${#1} -ge 440 ] && [ ${#1} -le 459 ]' _ "$t"
check_eq "device ascii: GSM-7, 3 segments, only ASCII" "gsm7 3 true" \
  "$(j '"\(.coding) \(.segments) \(.text | test("^[ -~\n]*$"))"')"
check "nothing reached the SMSC as '?' or U+FFFD" bash -c '! grep -qF -e "?" -e "�" <<<"$1"' _ "$(received | jq -r .text)"

stop_daemon
kannel_stop
