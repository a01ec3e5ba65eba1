#!/usr/bin/env bash
# `pagegate render`: the fax a message would produce, written as TIFF
# without a daemon or a call (pages, size, resolution and coding from the
# contact's device or the options, text read back by OCR), the text other
# channels would send, and precise errors for bad input.
. "$(dirname "$0")/lib.sh"
write_config
cat >>"$T/etc/pagegate.conf" <<'CONF'
sip = ( { name = "trunk"; proxy = "sip:127.0.0.1:5999"; from = "sip:fax@pagegate.test"; } );
CONF
cat >"$T/etc/clients/r-clinic.conf" <<'CONF'
id = "r-clinic";
name = "Render Clinic";
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
fields = ( { id = "room"; label = "Room"; required = false; } );
contacts = (
  { id = "desk"; name = "Front Desk";
    devices = ( { channel = "fax"; to = "+15555550100"; resolution = "standard"; coding = "mmr"; },
                { channel = "email"; to = "desk@clinic.example"; } ); }
);
rules = ( { notify = "contact:desk"; } );
CONF
PG="$BUILD/pagegate"
cat >"$T/m.json" <<'JSON'
{"caller":{"name":"Nora Quinn","phone":"+1 555 555 0123","company":"Quinn Dental"},
 "urgency":"urgent","text":"Patient in room 4 reports a reaction to the new prescription.",
 "fields":{"room":"4B"}}
JSON

out=$("$PG" render -c "$T/etc" --channel fax --client r-clinic --message "$T/m.json" -o "$T/a.tif" 2>&1)
check_eq "render --channel fax writes the TIFF and says what it is" \
  "$T/a.tif: 1 page(s), fine resolution, letter, mh" "$out"
"$BUILD/peers/fax_pages" "$T/a.tif" "$T" >"$T/a.info"
check_eq "one fine page 1728 wide" "pages=1|page=1 width=1728 height=2156 yres=196" "$(paste -sd'|' "$T/a.info")"
OMP_THREAD_LIMIT=1 tesseract "$T/page-1.pgm" - --psm 6 >"$T/a.txt" 2>/dev/null
check "OCR: the header line names the client" grep -q "^Render Clinic | Message .*Page 1 of 1" "$T/a.txt"
check "OCR: the title says urgent" grep -q "urgent message for Render Clinic" "$T/a.txt"
check "OCR: caller and company" bash -c "grep -q 'Nora Quinn' '$T/a.txt' && grep -q 'Quinn Dental' '$T/a.txt'"
check "OCR: the message text" grep -qF "Patient in room 4 reports a reaction to the new prescription." "$T/a.txt"
check "OCR: the client's field" grep -qF "Room: 4B" "$T/a.txt"

out=$("$PG" render -c "$T/etc" --channel fax --client r-clinic --contact desk --message "$T/m.json" -o "$T/b.tif" 2>&1)
check_eq "--contact takes the device's resolution and coding" \
  "$T/b.tif: 1 page(s), standard resolution, letter, mmr" "$out"
check_eq "the file is T.6 (MMR) coded at 98 lines per inch" "mmr 98" \
  "$("$BUILD/peers/fax_pages" --coding "$T/b.tif")"
out=$("$PG" render -c "$T/etc" --channel fax --client r-clinic --contact desk --message "$T/m.json" \
  --resolution fine --paper a4 --coding mr -o "$T/c.tif" 2>&1)
check_eq "options override the device" "$T/c.tif: 1 page(s), fine resolution, A4, mr" "$out"
check_eq "A4 at fine is 2291 rows" "page=1 width=1728 height=2291 yres=196" \
  "$("$BUILD/peers/fax_pages" "$T/c.tif" | sed -n 2p)"
check_eq "and MR coded" "mr 196" "$("$BUILD/peers/fax_pages" --coding "$T/c.tif")"

out=$("$PG" render -c "$T/etc" --channel email --client r-clinic --contact desk --message "$T/m.json" 2>&1)
check "render --channel email prints the subject" grep -q "^Subject: \[Render Clinic\] urgent .*Nora Quinn" <<<"$out"
check "and the body with the text" grep -qF "Patient in room 4 reports a reaction to the new prescription." <<<"$out"

# bad input: the API's own validation, exit codes of the CLI
echo '{"caller":{"name":"X"},"text":"t"}' >"$T/bad.json"
"$PG" render -c "$T/etc" --channel fax --client r-clinic --message "$T/bad.json" -o "$T/d.tif" 2>"$T/err"
check_eq "a message without caller.phone: exit 1" 1 $?
check "naming the field" grep -q "caller.phone" "$T/err"
check "and no file written" test ! -e "$T/d.tif"
"$PG" render -c "$T/etc" --channel fax --client nobody --message "$T/m.json" -o "$T/d.tif" 2>"$T/err"
check_eq "an unknown client: exit 1" 1 $?
"$PG" render -c "$T/etc" --channel fax --client r-clinic --message "$T/m.json" 2>"$T/err"
check_eq "fax without -o: usage error, exit 2" 2 $?
"$PG" render -c "$T/etc" --channel telex --client r-clinic --message "$T/m.json" 2>"$T/err"
check_eq "an unknown channel: exit 2" 2 $?
"$PG" render -c "$T/etc" --channel fax --client r-clinic --message "$T/m.json" --resolution super -o "$T/d.tif" 2>"$T/err"
check_eq "a bad --resolution: exit 2" 2 $?
