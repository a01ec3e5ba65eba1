#!/usr/bin/env bash
# The fax in every language the operators type: a message in English,
# Greek, Chinese, Lithuanian, Vietnamese, Hebrew and Arabic (caller,
# company, complaint, address) rendered with `pagegate render --channel
# fax`, each page read back by tesseract with Debian's language pack for
# the language, and the message's own lines found in what was read: at
# least 0.9 character accuracy per language (1 - edit distance / length,
# each line against the best-matching stretch of the OCR text, after NFKC
# and whitespace normalisation; right-to-left lines come back from
# tesseract in the order typed only when they were drawn right to left).
# The render's summary counts the characters no installed font has
# (drawn as the replacement mark): none in these languages, nor in
# emoji (Symbola); without an emoji font an emoji is written as its name;
# an unassigned code point is counted.
#
# FAX_LANG_REPORT=1 prints the accuracy of every language (the
# before/after measurement).
. "$(dirname "$0")/lib.sh"
write_config
cat >>"$T/etc/pagegate.conf" <<'CONF'
sip = ( { name = "trunk"; proxy = "sip:127.0.0.1:5999"; from = "sip:fax@pagegate.test"; } );
CONF
cat >"$T/etc/clients/lang.conf" <<'CONF'
id = "lang";
name = "Lang Clinic";
timezone = "Europe/Vilnius";
business_hours = ( { days = "Sun-Sat"; from = "00:00"; to = "24:00"; } );
contacts = ( { id = "desk"; name = "Front Desk";
               devices = ( { channel = "fax"; to = "+15555550100"; } ); } );
rules = ( { notify = "contact:desk"; } );
CONF
PG="$BUILD/pagegate"

# score OCR_FILE EXPECTED_FILE: prints the character accuracy of the
# expected lines (one per line) in the OCR text.
score() {
  $PY - "$1" "$2" <<'PYEOF'
import re, sys, unicodedata
CJK = '\u2e80-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef'
def norm(s):
    s = unicodedata.normalize('NFKC', s)
    s = re.sub(r'\s+', ' ', s).strip()
    # CJK text has no spaces between words; tesseract puts some in
    return re.sub(r' (?=[%s])|(?<=[%s]) ' % (CJK, CJK), '', s)
def best(p, t):
    # edit distance of p to the best-matching substring of t (Sellers)
    prev = [0] * (len(t) + 1)
    for i, c in enumerate(p, 1):
        cur = [i] + [0] * len(t)
        for j, d in enumerate(t, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (c != d))
        prev = cur
    return min(prev)
ocr = norm(open(sys.argv[1], encoding='utf-8', errors='replace').read())
want = [norm(l) for l in open(sys.argv[2], encoding='utf-8') if l.strip()]
dist = sum(best(w, ocr) for w in want)
total = sum(len(w) for w in want)
print('%.3f' % (1 - dist / total))
PYEOF
}

# lang_case NAME TESSERACT_LANGS CALLER COMPANY TEXT: renders the message,
# OCRs every page, checks accuracy and that no glyph was missing.
lang_case() {
  local name=$1 langs=$2 caller=$3 company=$4 text=$5 d=$T/$1
  mkdir -p "$d"
  jq -n --arg n "$caller" --arg c "$company" --arg t "$text" \
    '{caller: {name: $n, phone: "+1 555 555 0142", company: $c}, urgency: "urgent", text: $t}' \
    >"$d/m.json"
  printf '%s\n%s\n%s\n' "$caller" "$company" "$text" >"$d/expected"
  local out
  out=$("$PG" render -c "$T/etc" --channel fax --client lang --message "$d/m.json" -o "$d/f.tif" 2>&1)
  check_eq "$name: rendered, every character has a glyph" \
    "$d/f.tif: 1 page(s), fine resolution, letter, mh" "$out"
  "$BUILD/peers/fax_pages" "$d/f.tif" "$d" >"$d/info" || { notok "$name: fax_pages"; return; }
  : >"$d/ocr.txt"
  for p in $(seq 1 "$(sed -n 's/^pages=//p' "$d/info")"); do
    OMP_THREAD_LIMIT=1 tesseract "$d/page-$p.pgm" - -l "$langs" --psm 6 >>"$d/ocr.txt" 2>/dev/null
  done
  local acc
  acc=$(score "$d/ocr.txt" "$d/expected")
  [ "${FAX_LANG_REPORT:-0}" = 1 ] && echo "# $name ($langs): accuracy $acc"
  check "$name: OCR ($langs) reads the message back with accuracy $acc >= 0.9" \
    awk -v a="$acc" 'BEGIN { exit !(a >= 0.9) }'
}

lang_case english eng "Nora Quinn" "Quinn Dental" \
"No heat since this morning, the furnace makes a loud banging noise.
Two children and an elderly mother at home, please send someone today.
Address: 48 Maple Avenue, Apt 3B, Springfield"

lang_case greek ell "Γιώργος Παπαδόπουλος" "Φαρμακείο Παπαδόπουλου" \
"Δεν υπάρχει θέρμανση από το πρωί, ο λέβητας κάνει δυνατό θόρυβο.
Στο σπίτι είναι δύο παιδιά και η ηλικιωμένη μητέρα του, παρακαλώ στείλτε τεχνικό σήμερα.
Διεύθυνση: Οδός Αθηνάς 24, 3ος όροφος, Αθήνα"

lang_case chinese chi_sim "王小明" "明华牙科诊所" \
"从早上开始没有暖气，锅炉发出很大的响声。
家里有两个孩子和一位老人，请今天派人来维修。
地址：北京市朝阳区建国路88号3单元502室"

lang_case lithuanian lit "Jonas Petrauskas" "Petrausko odontologijos klinika" \
"Nuo ryto neveikia šildymas, katilas labai garsiai beldžia.
Namuose du vaikai ir pagyvenusi mama, prašome atsiųsti meistrą šiandien.
Adresas: Gedimino pr. 12-5, Vilnius"

lang_case vietnamese vie "Nguyễn Thị Hương" "Nha khoa Hương Giang" \
"Từ sáng đến giờ không có nước nóng, máy sưởi kêu rất to.
Ở nhà có hai đứa trẻ và mẹ già, xin cử thợ đến sửa ngay hôm nay.
Địa chỉ: 25 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh"

lang_case hebrew heb "משה כהן" "מרפאת השיניים כהן" \
"אין חימום מהבוקר, הדוד משמיע רעש חזק.
בבית שני ילדים ואמא מבוגרת, נא לשלוח טכנאי היום.
כתובת: רחוב הרצל 12, דירה 5, תל אביב"

lang_case arabic ara "أحمد حسن" "عيادة حسن للأسنان" \
"لا توجد تدفئة منذ الصباح، والمرجل يصدر صوتا عاليا.
في البيت طفلان وأم مسنة، الرجاء إرسال فني اليوم.
العنوان: شارع التحرير 12، شقة 5، القاهرة"

# ---- emoji, and what no font has ----
OK_SUMMARY="1 page(s), fine resolution, letter, mh"
jq -n '{caller: {name: "Nora Quinn", phone: "+1 555 555 0142"},
        text: "Burst pipe \ud83d\udd25\ufe0f flooding the kitchen \ud83d\udca7 send help \ud83d\ude92"}' >"$T/emoji.json"
out=$("$PG" render -c "$T/etc" --channel fax --client lang --message "$T/emoji.json" -o "$T/emoji.tif" 2>&1)
check_eq "emoji: drawn with an emoji font, no replacement mark" "$T/emoji.tif: $OK_SUMMARY" "$out"

# the same without Symbola (the only font with these emoji here): their names
cat >"$T/fonts.conf" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include>/etc/fonts/fonts.conf</include>
  <selectfont><rejectfont><glob>*/Symbola*</glob></rejectfont></selectfont>
</fontconfig>
XML
out=$(FONTCONFIG_FILE=$T/fonts.conf "$PG" render -c "$T/etc" --channel fax --client lang \
  --message "$T/emoji.json" -o "$T/names.tif" 2>&1)
check_eq "emoji without an emoji font: still no replacement mark" "$T/names.tif: $OK_SUMMARY" "$out"
mkdir -p "$T/names"
"$BUILD/peers/fax_pages" "$T/names.tif" "$T/names" >/dev/null
OMP_THREAD_LIMIT=1 tesseract "$T/names/page-1.pgm" - --psm 6 >"$T/names.txt" 2>/dev/null
check "and OCR reads them by name: (fire), (droplet), (fire engine)" \
  grep -qF "Burst pipe (fire) flooding the kitchen (droplet) send help (fire engine)" \
  "$T/names.txt"

jq -n '{caller: {name: "Nora Quinn", phone: "+1 555 555 0142"}, text: "unassigned \u0378 here"}' \
  >"$T/none.json"
out=$("$PG" render -c "$T/etc" --channel fax --client lang --message "$T/none.json" -o "$T/none.tif" 2>&1)
check_eq "a character no font has is counted" "$T/none.tif: $OK_SUMMARY; 1 character(s) with no glyph in any installed font, printed as the replacement mark" "$out"
