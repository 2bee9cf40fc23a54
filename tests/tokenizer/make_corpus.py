#!/usr/bin/python3
"""Writes corpus.jsonl, the tokenizer parity corpus: hand-picked lines per theme plus
seeded random mixtures of the same pieces. Deterministic; rerun after editing:
    /usr/bin/python3 tests/tokenizer/make_corpus.py > tests/tokenizer/corpus.jsonl
"""
import json
import random

lines = []
def add(*xs):
    lines.extend(xs)

# Scripts
add("The quick brown fox jumps over the lazy dog.",
    "你好，世界！今天天气很好。我们去公园散步吧。",
    "日本語のテキスト：東京は日本の首都です。カタカナとひらがな。",
    "한국어 문장입니다. 서울은 대한민국의 수도입니다.",
    "مرحبا بالعالم! هذه جملة باللغة العربية.",
    "שלום עולם! זהו משפט בעברית.",
    "नमस्ते दुनिया। यह हिंदी में एक वाक्य है।",
    "สวัสดีชาวโลก นี่คือประโยคภาษาไทย",
    "Привет, мир! Это предложение на русском языке. ЁЖИК ёжик",
    "Γειά σου Κόσμε! Αυτή είναι μια ελληνική πρόταση. ΣΊΣΥΦΟΣ",
    "Tiếng Việt có dấu: Xin chào thế giới, người Việt.",
    "Türkçe: İstanbul ılık ışık; Ağaç, çiçek, şeker.",
    "Deutsch: Grüße aus Köln – Straße, Maß, ÄÖÜ äöü ß ẞ",
    "Français : « Ça va ? » — déjà vu, œuvre, naïve, Noël.",
    "Español: ¿Dónde está la niña? ¡Olé! mañana",
    "Polski: Zażółć gęślą jaźń. Łódź",
    "ქართული ენა, Հայերեն լեզու, አማርኛ ቋንቋ",
    "தமிழ் மொழி, తెలుగు భాష, ಕನ್ನಡ, മലയാളം, বাংলা ভাষা, ਪੰਜਾਬੀ, ગુજરાતી",
    "ລາວ, ខ្មែរ, မြန်မာစာ, བོད་ཡིག, ᠮᠣᠩᠭᠣᠯ",
    "Mixed: English中文日本語한국어العربيةעבריתहिन्दीไทยРусскийΕλληνικά")
# Unicode spaces and invisible characters
add("no\u00a0break\u00a0space and\u00a0\u00a0two",
    "thin\u2009space, hair\u200aspace, en\u2002space, em\u2003space, figure\u2007space",
    "ideographic\u3000space\u3000here　full width",
    "narrow\u202fnbsp and math\u205fspace and ogham\u1680mark",
    "line\u2028separator and paragraph\u2029separator",
    "next\u0085line control",
    "mongolian\u180evowel separator", "x\u180e\u180e!", "tab\u180e\t\u180e end", "\u180e", "a \u180e\u180e b", "a \u180eb", "la \u180eárvore", "x \u180ey z",
    "zero\u200bwidth space, zw\u200cnj and zw\u200dj, word\u2060joiner, bom\ufeffhere",
    "\u00a0leading nbsp", "trailing nbsp\u00a0", "\u3000\u3000两个全角空格",
    "file\x1cgroup\x1drecord\x1eunit\x1fseparators",
    "vertical\x0btab and form\x0cfeed",
    "soft\u00adhyphen and\u2011non-breaking hyphen")
# Emoji
add("I love it 😀😃😄 so much! 👍🏽👍🏿",
    "Family: 👨‍👩‍👧‍👦 and couple 👩‍❤️‍💋‍👨, technologist 🧑🏾‍💻",
    "Flags: 🇺🇸🇬🇧🇯🇵🇩🇪🇫🇷 and 🏴󠁧󠁢󠁳󠁣󠁴󠁿 and 🏳️‍🌈 🏴‍☠️",
    "Keycaps: 1️⃣ 2️⃣ #️⃣ *️⃣ and text ☺︎ vs emoji ☺️",
    "🤖🤖🤖🤖🤖🤖🤖🤖", "emoji😀glued😀to😀words", "🙂", "🧠💡🚀✨🔥💯")
# Whitespace runs
add("a b", "a  b", "a   b", "a    b", "a\tb", "a\t\tb", "a\nb", "a\n\nb", "a\r\nb", "a\r\n\r\nb",
    "trailing space ", "trailing spaces   ", "trailing tab\t", "trailing newline\n", "trailing newlines\n\n\n",
    " leading space", "   leading spaces", "\tleading tab", "\nleading newline",
    "   ", "\n", "\n\n", "\t", " ", "\r\n", " \n \n ", "\t \t \n", "x" + " " * 30 + "y",
    "x" + " " * 24 + "y", "x" + " " * 25 + "y", "x" + " " * 50 + "y", "x" + " " * 2 + "y" + " " * 3 + "z",
    "    def f(x):\n        return x\n", "line one\r\nline two\r\n", "tabs\tand  spaces \t mixed\n\t\n")
# Digits
for n in range(1, 17):
    add("".join(str((i * 7 + n) % 10) for i in range(n)))
add("Year 2024, pi 3.14159265358979, 1,000,000 and 1e-10", "phone +1 (555) 123-4567",
    "٠١٢٣٤٥٦٧٨٩ Arabic-Indic digits", "१२३४ Devanagari digits", "１２３ full-width digits",
    "a1b22c333d4444e55555", "v1.2.3-rc4", "0x1F600 0b1010 0o777", "½ ¼ ¾ ² ³ ① Ⅻ")
# Contractions, both cases
add("I'm sure it's fine, we'll see, they've gone, you're right, he'd go, don't, can't",
    "I'M SURE IT'S FINE, WE'LL SEE, THEY'VE GONE, YOU'RE RIGHT, HE'D GO, DON'T, CAN'T",
    "It'S We'Ll They'Ve You'Re He'D n't N'T 's 'S 'll 'LL 've 'VE 're 'RE 'd 'D 'm 'M 't 'T",
    "'s's's 'S'S'S ''s '' '", "rock 'n' roll, 'quoted', ‘curly’ and ’s and it’s",
    "the cat's hat's brim", "O'Neill's and d'Artagnan's", "ſ long s: 'ſ and 'ﬅ ligature, Kelvin K")
# Special tokens inline
add("<|endoftext|>", "Hello<|endoftext|>world", "a <|endoftext|> b", "<|endoftext|><|endoftext|>",
    "<|begin_of_text|>Hello<|end_of_text|>", "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
    "<|padding|> pad", "<tool_call>{\"name\": \"f\"}</tool_call>", "<think>hmm</think>answer",
    "<|vision_start|><|image_pad|><|vision_end|>", "<|fim_prefix|>def<|fim_suffix|>x<|fim_middle|>",
    "<|endoftext", "|endoftext|>", "<|endoftext|", "< |endoftext| >", "<<|endoftext|>>",
    "<|ENDOFTEXT|>", "<|reserved_special_token_0|>", "<|reserved_special_token_100|>x",
    "text<|im_start|>", "<|im_start|>", "<|im_end|><|im_end|>", "<|eot_id|>\n")
# Dialogue markers
add("\n\nHuman: Hello, how are you?\n\nAssistant: I'm fine, thanks!",
    "\n\nHuman: ", "\n\nAssistant: ", "\n\nHuman: What is 2+2?\n\nAssistant: 4.\n\nHuman: Thanks\n\nAssistant:",
    "Human: x\nAssistant: y", "\n\nHuman:\n\nAssistant:", " \n\nHuman: lead space")
# Code, URLs, punctuation
add("int main(int argc, char** argv) { return argc > 1 ? 0 : -1; }",
    "for (auto& [k, v] : m) std::cout << k << \"=\" << v << '\\n';",
    "def fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)\n",
    "SELECT * FROM users WHERE name LIKE '%o''brien%';",
    "const x = {a: [1, 2, 3], 'b': \"c\"}; // comment /* block */",
    "https://huggingface.co/meta-llama/Llama-3.2-1B?query=a%20b&x=1#frag",
    "mailto:someone@example.com, ftp://ftp.example.org/pub/file.tar.gz",
    "C:\\Users\\name\\Documents\\file.txt", "/usr/local/bin/ram --flag=value",
    "!!!???...,,,;;;:::---___===+++***", "...", "!?!?", "—–-", "«»‹›„“”‘’", "((([[[{{{}}}]]])))",
    "@#$%^&*~`|\\/<>", "a.b.c.d", "e.g., i.e., etc.", "Hello!!! World???", "$100.00 €50 £20 ¥1000 ₹500",
    "<html><body><p class=\"x\">Hi</p></body></html>", "# Title\n\n* item\n* item2\n\n```py\nx=1\n```",
    "JSON: {\"key\": [true, false, null, 1.5e3]}", "tab\tseparated\tvalues\n1\t2\t3")
# Combining marks and normalization
add("e\u0301 vs \u00e9", "A\u030a vs \u00c5 vs \u212b", "n\u0303 and \u00f1", "o\u0308\u0304 and \u022b",
    "q\u0307\u0323 and \u1e0b\u0323 and d\u0323\u0307", "Z\u0335\u0321\u0327a\u0336\u031b\u0322l\u0337g\u0338o",
    "\u1100\u1161\u11a8 jamo vs \uac01", "\u1100\u1161 and \u1112\u1161\u11ab\u1100\u1173\u11af",
    "\u0915\u093c vs \u0958", "\u2126 ohm and \u03a9 omega", "\uf900 compat ideograph", "\u0344 and \u0308\u0301",
    "\u0301 leading combining", "a\u0301\u0301\u0301\u0301", "\u00c7\u0301 and C\u0327\u0301",
    "ﬁ ligature, ℌ, ①, ｆｕｌｌ", "\u05d0\u05b8 hebrew points", "\u0627\u064e\u0644\u0652 arabic harakat")
# Edge cases
add("", "a", "A", "'", " '", "''", "\\", "\"", "\\n literal", "\u0000 nul char", "\u007f del",
    "\ufffd replacement char", "\U0010ffff max code point", "\ue000 private use", "\U0001d400 math bold A",
    "x" * 300, "ab" * 200, "😀" * 40, "你" * 100, " " * 100, "\n" * 20, "-" * 80, "1" * 50,
    "a" + "\u0301" * 40, "superlongwordwithoutanyspacesatallthatgoesonandonandonforeverandeverandever",
    "Mr.Smith'sCamelCaseVariableName_with_snake_case and kebab-case-name", "ALLCAPSWORDS AND MORE CAPS")

# Added-token flags (exercised by the synthetic "flags" tokenizer; plain text elsewhere)
add("fill the <mask> here", "fill the    <mask>", "<mask>", " <mask>", "\t\n <mask>x", "a<mask><mask> b",
    "first [SEP]   second", "[SEP]\n\nnext", "x[SEP]", "a <both>  b", "  <both>  ", "<both><both>",
    "cat", "a cat sat", "concat cats", "cat's", "_cat_", "cat1", "(cat)", "écat", "caté",
    "été and e\u0301te\u0301 (decomposed)", "summer - winter - spring", " - ", "a - - b", "x -y- z")
# Seeded mixtures of the pieces above
pieces = [l for l in lines if 0 < len(l) < 120]
rng = random.Random(20261204)
seps = [" ", "", "\n", "  ", "\t", "\u00a0", "\u3000", "\r\n", "\n\nHuman: ", "\n\nAssistant: ", "<|endoftext|>", "<|im_start|>"]
for _ in range(200):
    k = rng.randint(2, 5)
    parts = [rng.choice(pieces) for _ in range(k)]
    s = parts[0]
    for p in parts[1:]:
        s += rng.choice(seps) + p
    lines.append(s)

for l in lines:
    print(json.dumps({"text": l}, ensure_ascii=False))
