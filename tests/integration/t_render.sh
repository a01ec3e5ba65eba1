#!/usr/bin/env bash
# `pagegate render` goes through the scheduler's own render path, so a
# preview shows what a device's content level lets through: a summary
# pager shows the summary (not the patient text), a notify device the
# notify template with the callback number, a client-wide level for SMS
# applies without --contact; the full email device still shows
# everything.  No daemon and no peer: nothing is sent.
. "$(dirname "$0")/lib.sh"
write_config
cat >>"$T/etc/pagegate.conf" <<'CONF'
callback = "+18005550100";
pager = ( { name = "metro"; kind = "snpp"; host = "127.0.0.1"; port = 4444; } );
sms = ( { name = "kannel"; kind = "kannel"; url = "http://127.0.0.1:13013/cgi-bin/sendsms";
          username = "u"; password = "p"; from = "5550000"; } );
CONF
cat >"$T/etc/clients/r-clinic.conf" <<'CONF'
id = "r-clinic";
name = "Render Clinic";
timezone = "America/Chicago";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
fields = ( { id = "room"; label = "Room"; required = false; } );
content = { sms = "summary"; };
contacts = (
  { id = "doc"; name = "Dr Ortiz";
    devices = ( { channel = "pager"; pin = "4412"; content = "summary"; },
                { channel = "email"; to = "ortiz@clinic.example"; } ); },
  { id = "desk"; name = "Front Desk";
    devices = ( { channel = "email"; to = "desk@clinic.example"; content = "notify"; },
                { channel = "sms"; to = "+15555550111"; } ); }
);
rules = ( { notify = "contact:doc"; } );
CONF
check "the configuration is valid" "$BUILD/pagegated" -n -c "$T/etc/pagegate.conf"
PG="$BUILD/pagegate"
SECRET="Post-op pain after knee surgery, oxycodone is not helping at all, patient asks for a call back tonight SECRET-7731"
jq -n --arg t "$SECRET" '{caller:{name:"Nora Quinn",phone:"+1 555 555 0123"},
  urgency:"urgent", text:$t, fields:{room:"4B"}}' >"$T/m.json"

out=$("$PG" render -c "$T/etc" --channel pager --client r-clinic --contact doc --message "$T/m.json" 2>&1)
check_eq "a summary pager renders (exit 0)" 0 $?
check "and shows the start of the text" grep -qF "Post-op pain after knee surgery" <<<"$out"
check "but not the whole patient text" bash -c "! grep -qF 'SECRET-7731' <<<\"\$1\"" _ "$out"
check "the summary ends in an ellipsis" grep -qF "…" <<<"$out"

out=$("$PG" render -c "$T/etc" --channel email --client r-clinic --contact doc --message "$T/m.json" 2>&1)
check "the same contact's full email device shows all the text" grep -qF "$SECRET" <<<"$out"
check "and the field" grep -qF "4B" <<<"$out"

out=$("$PG" render -c "$T/etc" --channel email --client r-clinic --contact desk --message "$T/m.json" 2>&1)
check "a notify device renders notify.subject" grep -q "^Subject: \[Render Clinic\] message waiting - call +18005550100" <<<"$out"
check "and none of the text" bash -c "! grep -qF 'Post-op' <<<\"\$1\"" _ "$out"
check "nor the caller" bash -c "! grep -qF 'Nora Quinn' <<<\"\$1\"" _ "$out"

out=$("$PG" render -c "$T/etc" --channel sms --client r-clinic --message "$T/m.json" 2>&1)
check "the client's level for sms applies without --contact" bash -c "! grep -qF 'SECRET-7731' <<<\"\$1\"" _ "$out"
check "and still says who called" grep -qF "Nora Quinn" <<<"$out"
