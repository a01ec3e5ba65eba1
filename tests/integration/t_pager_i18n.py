#!/usr/bin/python3
"""t_pager_i18n.py - the texts and the oracle of t_pager_i18n.sh.

  t_pager_i18n.py messages OUTDIR      one JSON body per page to post
                                       (OUTDIR/LANG-LEN.json)
  t_pager_i18n.py judge ARRIVED.jsonl  one line per delivery:
      RESULT PATH LANG LEN STATE EXACT FAITHFUL QMARKS BYTES CHARS

What a page should be is worked out here from the pager's rules, apart
from pagegate's code: the template's three lines (urgency, client and
acknowledgement reference; caller; text), squeezed; on a 7-bit path
transliterated by ICU ("Any-Latin; Latin-ASCII", called here through
ctypes) and squeezed again; then cut to the longest prefix that ends a word (or,
without a blank among the last 16 characters, a character) and, with the
mark that shows the cut ("…" or "..."), fits the device's characters and
the gateway's limit in the gateway's unit: SNPP bytes as hfaxd counts a
DATA text (each line with its line break, the last one too), WCTP and TAP
characters.

EXACT: the far end received exactly that.  FAITHFUL: what it received,
less the mark, is the start of what was typed (or of its
transliteration).  QMARKS: question marks the far end got that the typed
text (or its transliteration) does not have.
"""
import ctypes
import glob
import json
import os
import re
import sys
import unicodedata

LOOKBACK = 16

SENTENCES = {
    "el": ("Ο κύριος Παπαδόπουλος τηλεφώνησε για το λεβητοστάσιο στην οδό Ερμού 24. "
           "Δεν υπάρχει θέρμανση από χθες το βράδυ και στο σπίτι μένουν δύο μικρά παιδιά "
           "και μια ηλικιωμένη γυναίκα. Ο καυστήρας κάνει θόρυβο και μετά σβήνει, η ένδειξη "
           "δείχνει σφάλμα Ε4. Παρακαλεί να τον καλέσετε πίσω το συντομότερο δυνατόν στο "
           "κινητό του. Η πόρτα της αυλής είναι ανοιχτή και ο σκύλος είναι φιλικός. Αν δεν "
           "απαντήσει, αφήστε μήνυμα στη σύζυγό του, την κυρία Ελένη, που θα είναι στο σπίτι "
           "όλο το απόγευμα. Ο τεχνικός που ήρθε την προηγούμενη φορά είχε αλλάξει τη "
           "βαλβίδα πίεσης και πιστεύει ότι είναι το ίδιο πρόβλημα."),
    "zh": ("王先生来电，说他家的暖气从昨天晚上开始就不工作了。家里有两个小孩和一位老人，现在室内温度只有十二度。"
           "锅炉启动后会发出很大的噪音，然后自动熄火，显示屏上出现错误代码E4。他希望技术人员今天下午能够上门检查，"
           "越快越好。请尽快回电到他的手机。院子的门是开着的，狗很友善，不会咬人。如果他没有接电话，请给他的妻子"
           "李女士留言，她整个下午都在家。上次来的技术人员更换过压力阀，他怀疑可能是同一个问题。地址是朝阳区建国路"
           "八十八号三单元五零二室，楼下有停车位，门禁密码是一二三四。楼道里的灯坏了，请带手电筒。他还说热水器也"
           "有一点漏水，希望技术人员一起看一下。如果需要更换零件，请先打电话告诉他大概的费用。他明天上午要上班，"
           "所以最好今天下午或者晚上七点以前过来。谢谢。"),
    "lt": ("Ponia Žąsinienė skambino dėl šildymo katilo Vilniaus gatvėje 12. Nuo vakar vakaro "
           "namuose nėra šilumos, o name gyvena du maži vaikai ir vyresnio amžiaus moteris. "
           "Katilas įsijungia, triukšmingai dūzgia ir po kelių minučių išsijungia, ekrane "
           "rodoma klaida E4. Prašo kuo greičiau jai perskambinti mobiliuoju telefonu. Kiemo "
           "vartai atidaryti, šuo draugiškas ir nekanda. Jei ji neatsilieps, palikite žinutę jos "
           "vyrui Jonui, kuris visą popietę bus namuose. Praėjusį kartą atvykęs technikas "
           "pakeitė slėgio vožtuvą ir mano, kad tai ta pati gedimo priežastis."),
    "vi": ("Bà Nguyễn Thị Hương gọi về lò sưởi tại số 45 đường Lê Lợi. Từ tối hôm qua trong nhà "
           "không có hệ thống sưởi, trong nhà có hai đứa trẻ nhỏ và một người già. Lò hơi khởi "
           "động, kêu rất to rồi tự tắt sau vài phút, màn hình hiện mã lỗi E4. Bà nhờ gọi lại cho "
           "bà càng sớm càng tốt qua số điện thoại di động. Cổng sân đang mở, con chó rất hiền và "
           "không cắn. Nếu bà không nghe máy, xin để lại lời nhắn cho chồng bà là ông Trần Văn "
           "Nam, ông ấy ở nhà cả buổi chiều. Lần trước kỹ thuật viên đã thay van áp suất."),
    "en": ("Mr. Peterson called about the boiler at 24 Elm Street. There has been no heat since "
           "last night, and two small children and an elderly woman are in the house. The boiler "
           "starts, makes a loud noise and shuts off after a few minutes; the display shows "
           "error E4. Please call him back as soon as possible on his mobile. The yard gate is "
           "open and the dog is friendly. If he does not answer, leave a message with his wife "
           "Helen, who will be home all afternoon. The technician who came last time replaced "
           "the pressure valve and thinks it is the same problem again."),
}
CALLERS = {
    "el": ("Γιώργος Παπαδόπουλος", "+30 21 0555 0142"),
    "zh": ("王伟", "+86 10 5555 0142"),
    "lt": ("Rūta Žąsinienė", "+370 5 555 0142"),
    "vi": ("Nguyễn Thị Hương", "+84 24 5555 0142"),
    "en": ("John Peterson", "+1 555 555 0142"),
}
LENGTHS = (100, 300, 600)


def typed(lang, n):
    """About n characters of the language's text, ending at a word (Chinese:
    anywhere), repeated when the text is shorter."""
    s = SENTENCES[lang]
    while len(s) < n:
        s = s + " " + SENTENCES[lang]
    s = s[:n]
    if lang != "zh" and " " in s:
        s = s[:s.rindex(" ")]
    return s


def squeeze(s, one_line=False):
    lines = []
    for ln in re.split(r"\r\n|[\r\n\u2028\u2029\x85]", s):
        ln = re.sub(r"[\x00-\x1f\x7f-\xa0 ]+", " ", ln).strip(" ")
        if ln:
            lines.append(ln)
    return (" / " if one_line else "\n").join(lines)


_ICU = None


def icu_ascii(s):
    """ICU's "Any-Latin; Latin-ASCII" over the whole text through ICU's C
    API (utrans_transUChars, as a program links it; the uconv tool goes
    through another entry point that joins the pinyin of a Chinese word,
    "zuotian" for "zuo tian"); what stays outside ASCII is spelled by its
    Unicode name in parentheses, marks dropped."""
    global _ICU
    if _ICU is None:
        path = sorted(glob.glob("/usr/lib/*/libicui18n.so.[0-9]*"))[0]
        ver = re.search(r"\.so\.(\d+)", path).group(1)
        lib = ctypes.CDLL(path)
        openu = getattr(lib, "utrans_openU_" + ver)
        openu.restype = ctypes.c_void_p
        ident = "Any-Latin; Latin-ASCII".encode("utf-16-le")
        err = ctypes.c_int(0)
        tr = openu(ctypes.create_string_buffer(ident + b"\0\0"), ctypes.c_int32(len(ident) // 2),
                   0, None, 0, None, ctypes.byref(err))
        if err.value > 0 or not tr:
            raise SystemExit("ICU: no Any-Latin; Latin-ASCII (%d)" % err.value)
        _ICU = (getattr(lib, "utrans_transUChars_" + ver), ctypes.c_void_p(tr))
    trans, tr = _ICU
    data = s.encode("utf-16-le")
    cap = len(data) // 2 * 8 + 16
    buf = ctypes.create_string_buffer(data, cap * 2)
    n = ctypes.c_int32(len(data) // 2)
    limit = ctypes.c_int32(n.value)
    err = ctypes.c_int(0)
    trans(tr, buf, ctypes.byref(n), ctypes.c_int32(cap), ctypes.c_int32(0), ctypes.byref(limit),
          ctypes.byref(err))
    if err.value > 0:
        raise SystemExit("ICU: transliteration failed (%d)" % err.value)
    out = []
    for c in buf.raw[:n.value * 2].decode("utf-16-le"):
        if c in "\n\r\t" or " " <= c < "\x7f":
            out.append(c)
        elif ord(c) >= 0x80 and unicodedata.category(c) not in ("Mn", "Me", "Mc", "Lm", "Cf", "Sk"):
            out.append(" " if c.isspace() else "(%s)" % unicodedata.name(c, "").lower()
                       if unicodedata.name(c, "") else "")
    return "".join(out)


def snpp_cost(s):
    b = s.encode()
    if b"\n" not in b and len(b) <= 200:
        return len(b)                            # MESS
    return sum(len(l) + 1 + (1 if l.startswith(b".") else 0) for l in b.split(b"\n"))


def cut(text, max_chars, cost, max_cost, mark, force=False):
    def fits(p, m):
        return (not max_chars or len(p + m) <= max_chars) and \
               (not max_cost or cost(p + m) <= max_cost)
    if not force and fits(text, ""):
        return text
    k = len(text)
    while k > 0 and not fits(text[:k], mark):
        k -= 1
    if k < len(text) and text[k] not in " \n":
        for j in range(k - 1, max(k - LOOKBACK, 0) - 1, -1):
            if text[j] in " \n":
                k = j
                break
    return text[:k].rstrip(" \n/") + mark


PATHS = {
    # path: (ascii, one line, device characters, gateway unit, gateway limit)
    "snpp-unicode": (False, False, 240, snpp_cost, 128),
    "snpp-ascii": (True, False, 240, snpp_cost, 128),
    "wctp": (False, False, 160, len, 0),
    "tap": (True, True, 160, len, 0),
    # refused by the peer first (its limit unknown to pagegate), then cut
    # to the limit its refusal names
    "snpp-batch-short": (False, False, 40, snpp_cost, 0),
    "snpp-batch-long": (False, False, 400, snpp_cost, 128),
    "wctp-long": (False, False, 200, len, 0),
    "tap-long": (True, True, 200, len, 0),
}
FORCED = ("snpp-batch-long", "wctp-long", "tap-long")


def messages(outdir):
    for lang in SENTENCES:
        for n in LENGTHS:
            name, phone = CALLERS[lang]
            body = {"client": "i18n-clinic", "caller": {"name": name, "phone": phone},
                    "text": typed(lang, n)}
            with open(os.path.join(outdir, "%s-%d.json" % (lang, n)), "w") as f:
                json.dump(body, f, ensure_ascii=False)
    name, phone = CALLERS["el"]
    with open(os.path.join(outdir, "batch.json"), "w") as f:
        json.dump({"client": "i18n-clinic", "urgency": "emergency",
                   "caller": {"name": name, "phone": phone}, "text": typed("el", 600)},
                  f, ensure_ascii=False)


def judge(path_jsonl):
    for line in open(path_jsonl, encoding="utf-8"):
        d = json.loads(line)
        ascii, one, chars, unit, limit = PATHS[d["path"]]
        page = squeeze("%s %s - ACK %s\n%s %s\n%s" % (d["urgency"], d["client"], d["ack_ref"],
                                                      d["caller_name"], d["caller_phone"],
                                                      d["text"]), one)
        mark = "..." if ascii else "\u2026"
        ideal = squeeze(icu_ascii(page), one) if ascii else page
        want = cut(ideal, chars, unit, limit, mark, d["path"] in FORCED)
        got = d.get("arrived")
        exact = got == want
        faithful = got is not None and ideal.startswith(
            got[:-len(mark)] if got.endswith(mark) else got)
        qmarks = max(0, (got or "").count("?") - ideal.count("?"))
        print("RESULT %s %s %s %s %s %s %d %d %d" % (
            d["path"], d["lang"], d["len"], d["state"], "exact" if exact else "differs",
            "faithful" if faithful else "unfaithful", qmarks,
            len((got or "").encode()), len(got or "")))
        if not exact:
            print("# %s %s %s: expected %r" % (d["path"], d["lang"], d["len"], want))
            print("# %s %s %s: received %r" % (d["path"], d["lang"], d["len"], got))


if __name__ == "__main__":
    if sys.argv[1] == "messages":
        messages(sys.argv[2])
    else:
        judge(sys.argv[2])
