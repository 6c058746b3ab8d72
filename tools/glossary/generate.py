#!/usr/bin/env python3
"""Build config/glossary.toml: a Japanese <-> English life-science concept glossary.

Input: JMdict as the SQLite database shipped in the PyPI package `jamdict-data`
(see tools/glossary/README.md for how to fetch it), plus tools/glossary/curated.toml,
which is merged on top. Python 3.11 standard library only.

    python3 tools/glossary/generate.py --db /path/to/jamdict.db[.xz]
    python3 tools/glossary/generate.py --check config/glossary.toml
    python3 tools/glossary/generate.py --db ... --sample 100 --seed 7
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import tomllib
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
KINDS = (
    "disease",
    "modality",
    "target",
    "mechanism",
    "technique",
    "anatomy",
    "cell",
    "organism",
    "general",
)

# JMdict field tags that mark a life-science sense.
LIFE_FIELDS = {
    "medicine",
    "anatomy",
    "biology",
    "physiology",
    "biochemistry",
    "pharmacy",
    "genetics",
    "psychology, psychiatry",
}
# Chemistry is mostly laboratory or industrial vocabulary: a chemistry sense is kept only
# when its glosses also look biomedical (see BIO_WORDS) or name a specific compound class.
CHEMISTRY = "chemistry"

# Senses marked with any of these are not how a researcher writes today.
EXCLUDED_MISC = {
    "archaism",
    "obsolete term",
    "obscure term",
    "slang",
    "derogatory",
    "vulgar expression or word",
    "jocular, humorous term",
    "Internet slang",
    "manga slang",
    "children's language",
    "proverb",
    "idiomatic expression",
    "yojijukugo",
    "historical term",
    "dated term",
    "poetical term",
    "sensitive",
    "colloquialism",
    "familiar language",
    "honorific or respectful (sonkeigo) language",
    "humble (kenjougo) language",
    "polite (teineigo) language",
    "quotation",
    "rare",
}
NOUN_POS = (
    "noun (common)",
    "nouns which may take the genitive",
    "noun or participle which takes the aux. verb suru",
    "noun, used as a suffix",
    "noun, used as a prefix",
)
# Kanji and kana forms flagged like this are misspellings or outdated forms.
BAD_FORM_INFO = {
    "word containing irregular kanji usage",
    "word containing out-dated kanji",
    "word containing irregular kana usage",
    "out-dated or obsolete kana usage",
    "irregular okurigana usage",
}

# Words in an English gloss that make an untagged sense a life-science one. Matched as whole
# words (or word prefixes where the pattern ends with \w*).
BIO_WORDS = re.compile(
    r"\b("
    r"cancers?|carcinomas?|tumou?rs?|sarcomas?|leuk(a)?emias?|lymphomas?|melanomas?|neoplasms?|"
    r"metasta\w*|malignan\w*|benign|oncolog\w*|"
    r"diseases?|syndromes?|disorders?|infections?|infectious|inflammat\w*|"
    r"\w+itis|\w{3,}osis|\w+(a)?emia|\w+plasia|\w+trophy|neuralgia|myalgia|arthralgia|\w+opathy|"
    r"palsy|paralysis|dementia|diabet\w*|hypertension|asthma|allerg\w*|dystroph\w*|"
    r"sclerosis|ulcers?|hernia|fractures?|poisoning|toxins?|"
    r"cells?|\w+cytes?|\w+blasts?|\w+phages?|genes?|genom\w*|genetic\w*|chromosom\w*|"
    r"dna|rna|proteins?|enzymes?|\w+ases|receptors?|hormones?|antibod\w*|antigens?|"
    r"vaccin\w*|virus\w*|viral|bacteri\w*|microb\w*|fung(i|us|al)|parasit\w*|pathogen\w*|"
    r"immun\w*|therap\w*|surger\w*|surgical|\w+ectomy|\w+otomy|\w+ostomy|\w+scopy|endoscope|"
    r"diagnos\w*|clinical|medical|drugs?|pharmac\w*|symptoms?|"
    r"organs?|tissues?|membranes?|arter\w*|veins?|venous|nerves?|neur\w*|cortex|cortical|"
    r"glands?|muscles?|muscular|liver|hepat\w*|renal|kidneys?|nephr\w*|lungs?|pulmonar\w*|"
    r"cardi\w*|gastr\w*|intestin\w*|bowel|colon|colorectal|rectal|pancrea\w*|thyroid|"
    r"plasma|serum|metabol\w*|lymph\w*|insulin|vitamins?|amino|peptides?|nucleotides?|"
    r"nucleic|chemotherapy|radiotherapy|transplant\w*|stem|embryo\w*|fet(al|us)|"
    r"pregnan\w*|obes\w*|steroids?|antibiotics?|analgesic\w*|anesthe\w*|anaesthe\w*|"
    r"patholog\w*|physiolog\w*|anatom\w*|epidemi\w*|pathway|apoptosis|mitochondri\w*|"
    r"cytokines?|interleukin\w*|kinases?|inhibitors?|agonists?|antagonists?|"
    r"spinal|spine|vertebra\w*|skeletal|bones?|marrow|blood|brain|cerebral|cerebr\w*"
    r")\b",
    re.IGNORECASE,
)
# Glosses that contain these are about people, places or institutions, not concepts.
NON_CONCEPT = re.compile(
    r"\b(hospital|clinic|doctor|physician|nurse|patient'?s?|department|ward|"
    r"insurance|fee|fees|certificate|license|licence|school|university|society|association|"
    r"ministry|law|act|office|shop|store|company|book|magazine|journal|god|goddess|buddha|"
    r"sumo|baseball|mahjong|shogi|haiku|festival|temple|shrine|emperor|samurai|"
    r"e\.g\.|i\.e\.|esp\.|usu\.|lit\.|fig\.|orig\.|person|people|someone|somebody|one's|"
    r"\w+ists?|surgeons?|\w+icians?|specialists?|practitioners?|pharmacists?|midwife|midwives|"
    r"technicians?|researchers?|workers?|staff|teachers?|students?|professors?|"
    r"plants?|trees?|flowers?|grass|seaweed|fish|birds?|insects?|beetles?|moths?|butterfl\w+|"
    r"shrubs?|herbs?|pine|moss|ferns?|kelp|shellfish|crabs?|shrimps?|snakes?|frogs?|"
    r"genus|species|cultivar|variety|breed|goods|machine|vehicle|car|ship|weapon|"
    r"song|poem|novel|film|movie|drama|play|game|sport|team|player|healer|kinsman|trust|"
    r"study of|effectiveness|efficacy of|entire nation)\b",
    re.IGNORECASE,
)

# English terms too generic to count as evidence that two records are about the same thing.
GENERIC_EN = {
    "cell", "cells", "gene", "genes", "protein", "proteins", "study", "research", "treatment",
    "therapy", "disease", "illness", "sickness", "medicine", "drug", "drugs", "medication",
    "cure", "remedy", "care", "test", "tests", "testing", "analysis", "method", "technique",
    "system", "function", "structure", "body", "organ", "tissue", "blood", "reaction",
    "response", "effect", "effects", "action", "activity", "process", "development", "growth",
    "change", "control", "regulation", "factor", "agent", "substance", "material", "matter",
    "compound", "element", "molecule", "solution", "mixture", "sample", "product", "result",
    "level", "rate", "ratio", "concentration", "amount", "quantity", "type", "form", "phase",
    "stage", "state", "condition", "case", "symptom", "sign", "problem", "disorder", "syndrome",
    "infection", "injury", "wound", "pain", "fever", "poison", "toxin", "reduction", "oxidation",
    "cycle", "circuit", "host", "carrier", "vector", "model", "pattern", "unit", "base",
    "acid", "salt", "ion", "metal", "oil", "water", "gas", "liquid", "solid", "powder",
    "crystal", "fiber", "fibre", "film", "layer", "membrane", "surface", "core", "nucleus",
    "center", "centre", "head", "neck", "face", "hand", "foot", "arm", "leg", "back", "side",
    "life", "death", "birth", "age", "aging", "ageing", "sex", "health", "diet", "food",
    "nutrition", "exercise", "stress", "fatigue", "sleep", "mind", "heart", "brain", "nerve",
    "nerves", "muscle", "bone", "skin", "hair", "eye", "eyes", "ear", "nose", "mouth", "tooth",
    "teeth", "lip", "tongue", "throat", "chest", "belly", "stomach", "liver", "lung", "kidney",
    "culture", "screening", "diagnosis", "examination", "inspection", "observation",
    "operation", "surgery", "procedure", "intervention", "prevention", "management",
    "monitoring", "measurement", "detection", "evaluation", "assessment", "trial", "clinic",
    "medical", "clinical", "biological", "chemical", "physical", "natural", "normal",
    "abnormal", "abnormality", "specimen", "preparation", "formulation", "dose", "dosage",
    "administration", "injection", "infusion", "tablet", "pill", "capsule", "ointment",
    "vaccine", "antibody", "enzyme", "hormone", "receptor", "virus", "bacteria", "bacterium",
    "germ", "germs", "microbe", "parasite", "insect", "animal", "plant", "organism", "species",
    "mutation", "variant", "variation", "expression", "signal", "signaling", "signalling",
    "pathway", "network", "target", "marker", "index", "indicator", "standard", "protocol",
    "platform", "tool", "device", "instrument", "apparatus", "equipment", "machine", "kit",
    "probe", "sensor", "chip", "image", "imaging", "picture", "scan", "record", "data",
    "information", "knowledge", "theory", "hypothesis", "principle", "law", "rule", "order",
    "class", "group", "family", "line", "strain", "lineage", "population", "sequence",
    "code", "copy", "replication", "division", "fusion", "transfer", "transport",
    "transmission", "contact", "exposure", "resistance", "tolerance", "sensitivity",
    "immunity", "defense", "defence", "repair", "recovery", "healing", "regeneration",
    "rehabilitation", "support", "aid", "assistance", "help", "service", "facility",
    "laboratory", "lab", "experiment", "trial and error", "hospital", "doctor", "nurse",
    "patient", "subject", "volunteer", "donor", "recipient", "user", "mother", "child",
    "baby", "infant", "adult", "elderly", "man", "woman", "male", "female", "chemistry",
    "biology", "physiology", "anatomy", "pharmacy", "pathology", "science", "engineering",
    "technology", "biotechnology", "measure", "measures", "degree", "grade", "scale", "size",
    "weight", "volume", "length", "width", "height", "depth", "pressure", "temperature",
    "heat", "cold", "light", "color", "colour", "sound", "vibration", "wave", "energy",
    "power", "force", "strength", "speed", "time", "period", "interval", "duration",
    "chronic", "acute", "mild", "severe", "early", "late", "primary", "secondary", "local",
    "general", "systemic", "internal", "external", "central", "peripheral", "upper", "lower",
    "left", "right", "front", "rear", "anterior", "posterior", "inner", "outer", "deep",
    "superficial", "sugar", "fat", "fats", "lipid", "lipids", "alcohol", "ester", "ether",
    "polymer", "resin", "rubber", "plastic", "glass", "paper", "cloth", "fluid", "juice",
    "extract", "essence", "secretion", "discharge", "excretion", "waste", "residue",
    "sediment", "deposit", "stone", "stones", "spot", "spots", "mark", "scar", "lump",
    "swelling", "boil", "rash", "itch", "cough", "sneeze", "vomiting", "nausea", "diarrhea",
    "constipation", "bleeding", "hemorrhage", "haemorrhage", "cramp", "spasm", "seizure",
    "fit", "attack", "shock", "collapse", "coma", "faint", "fainting", "dizziness",
    "headache", "cold", "flu", "chill", "chills", "inflammation", "ulcer", "tumor", "tumour",
    "cancer", "growth", "mass", "malignancy",
}
# Single words that may stay although GENERIC_EN lists them: the concept is specific enough.
GENERIC_EN_ALLOWED = {"cancer", "tumor", "tumour", "antibody", "vaccine", "enzyme", "hormone",
                      "receptor", "virus", "bacteria", "bacterium", "inflammation", "ulcer",
                      "malignancy", "coma", "seizure", "hemorrhage", "haemorrhage", "diarrhea",
                      "diabetes", "immunity", "mutation", "apoptosis", "metastasis",
                      "regeneration", "rehabilitation", "vomiting", "nausea", "headache",
                      "influenza", "lipid", "lipids", "nucleus", "pathology", "anatomy",
                      "physiology", "biotechnology"}

# Japanese terms too generic to be evidence.
GENERIC_JA = {
    "治療", "研究", "細胞", "医療", "病気", "薬", "薬品", "医薬", "医薬品", "病院", "医者", "医師",
    "患者", "診療", "診察", "検査", "試験", "実験", "分析", "方法", "技術", "手術", "投与",
    "予防", "健康", "症状", "病", "疾患", "疾病", "障害", "異常", "反応", "作用", "効果", "機能",
    "構造", "物質", "化合物", "分子", "成分", "遺伝子", "蛋白質", "タンパク質", "たんぱく質",
    "組織", "器官", "臓器", "身体", "体", "血", "血液", "骨", "筋肉", "皮膚", "神経", "脳", "心臓",
    "生物", "動物", "植物", "微生物", "細菌", "菌", "ウイルス", "ウィルス", "感染", "炎症", "発熱",
    "痛み", "疼痛", "傷", "病変", "腫れ", "診断", "解析", "測定", "評価", "観察", "培養",
    "発生", "発現", "成長", "増殖", "代謝", "変化", "制御", "調節", "信号", "シグナル", "因子",
    "物", "剤", "液", "酸", "塩", "基", "核", "膜", "層", "体内", "体外", "生体", "生命", "死",
    "出生", "年齢", "老化", "性", "食事", "栄養", "運動", "ストレス", "疲労", "睡眠", "精神",
    "心", "頭", "首", "顔", "手", "足", "腕", "脚", "背中", "目", "耳", "鼻", "口", "歯", "舌",
    "喉", "胸", "腹", "胃", "肝臓", "肺", "腎臓", "モデル", "システム", "プロセス", "データ",
    "タイプ", "レベル", "パターン", "ネットワーク", "ターゲット", "マーカー", "サンプル",
    "テスト", "チェック", "ケア", "キャリア", "ベクター", "ホスト", "宿主", "還元", "酸化",
    "回路", "循環", "結合", "分解", "合成", "抽出", "精製", "溶液", "混合物", "試料", "標本",
    "製剤", "錠剤", "注射", "点滴", "ワクチン", "抗体", "酵素", "ホルモン", "受容体", "レセプター",
    "変異", "突然変異", "多様性", "発症", "再発", "転移", "予後", "経過", "重症", "軽症", "急性",
    "慢性", "早期", "末期", "初期", "局所", "全身", "内部", "外部", "中枢", "末梢", "上部", "下部",
}
# One-character Japanese terms are too ambiguous in running text, except these.
SINGLE_CHAR_JA_ALLOWED = {"癌"}

# Kanji commonly replaced by kana in Japanese medical writing (交ぜ書き): each pair yields a
# variant of every term that contains the first string.
JA_SUBSTITUTIONS = (
    ("癌", "がん"),
    ("膵臓", "すい臓"),
    ("蛋白", "タンパク"),
    ("蛋白", "たんぱく"),
    ("粗鬆", "粗しょう"),
    ("譫妄", "せん妄"),
    ("齲蝕", "う蝕"),
    ("癲癇", "てんかん"),
    ("痙攣", "けいれん"),
    ("麻痺", "まひ"),
    ("頸", "頚"),
    ("腱鞘", "腱しょう"),
    ("褥瘡", "じょく瘡"),
    ("嚥下", "えん下"),
    ("膠原", "こう原"),
    ("贅肉", "ぜい肉"),
    ("痙縮", "けい縮"),
    ("脳梗塞", "脳こうそく"),
)

# US -> UK spellings; each applies to whole words or word parts as written.
US_UK = (
    (r"\btumor", "tumour"),
    (r"(?<!acad)([^a])emia\b", r"\1aemia"),
    (r"\b(\w*(?:glyc|anem|ischem|leuk|ur|sept|bacter|vir|tox|lipid|ox|hyper|hypo))emic\b", r"\1aemic"),
    (r"\bhem(at|o|a|ang)", r"haem\1"),
    (r"\bhemorrh", "haemorrh"),
    (r"\bhemolys", "haemolys"),
    (r"\bhemophil", "haemophil"),
    (r"\bhemoglobin", "haemoglobin"),
    (r"\besophag", "oesophag"),
    (r"\bestrogen", "oestrogen"),
    (r"\bedema", "oedema"),
    (r"\bpediatric", "paediatric"),
    (r"\borthoped", "orthopaed"),
    (r"\bfetus", "foetus"),
    (r"\bfetal", "foetal"),
    (r"\banesthe", "anaesthe"),
    (r"\bdiarrhea", "diarrhoea"),
    (r"\bgynecolog", "gynaecolog"),
    (r"\bcecum", "caecum"),
    (r"\bceliac", "coeliac"),
    (r"\bdyspnea", "dyspnoea"),
    (r"\bapnea", "apnoea"),
    (r"\bgonorrhea", "gonorrhoea"),
    (r"\bleukocyt", "leucocyt"),
    (r"\bbehavior", "behaviour"),
    (r"\bfiber", "fibre"),
    (r"\bcenter", "centre"),
    (r"\bcolor", "colour"),
    (r"\bsulfur", "sulphur"),
    (r"\bsulfate", "sulphate"),
    (r"\bsulfide", "sulphide"),
    (r"\bhumor", "humour"),
    (r"\bischemi", "ischaemi"),
    (r"\bglycem", "glycaem"),
    (r"\bseborrhea", "seborrhoea"),
    (r"\bamenorrhea", "amenorrhoea"),
    (r"\bmaneuver", "manoeuvre"),
    (r"(\w{3,})(iz)(e|es|ed|ing|ation|ations)\b", r"\1is\3"),
)
UK_US = (
    (r"\btumour", "tumor"),
    (r"aemia\b", "emia"),
    (r"aemic\b", "emic"),
    (r"\bhaem", "hem"),
    (r"\boesophag", "esophag"),
    (r"\boestrogen", "estrogen"),
    (r"\boedema", "edema"),
    (r"\bpaediatric", "pediatric"),
    (r"\borthopaed", "orthoped"),
    (r"\bfoet", "fet"),
    (r"\banaesthe", "anesthe"),
    (r"\bdiarrhoea", "diarrhea"),
    (r"\bgynaecolog", "gynecolog"),
    (r"\bcaecum", "cecum"),
    (r"\bcoeliac", "celiac"),
    (r"\bdyspnoea", "dyspnea"),
    (r"\bapnoea", "apnea"),
    (r"\bleucocyt", "leukocyt"),
    (r"\bbehaviour", "behavior"),
    (r"\bfibre", "fiber"),
    (r"\bcentre", "center"),
    (r"\bcolour", "color"),
    (r"\bsulph", "sulf"),
    (r"\bischaemi", "ischemi"),
    (r"\bglycaem", "glycem"),
)


def norm(term: str) -> str:
    """The key under which a term is compared: NFKC, lower case, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", term).lower().split())


def clean_ja(term: str) -> str:
    return unicodedata.normalize("NFKC", term).strip()


def is_kana(text: str) -> bool:
    return all("\u3040" <= ch <= "\u30ff" or ch == "ー" for ch in text)


def is_hiragana(text: str) -> bool:
    return all("\u3040" <= ch <= "\u309f" or ch == "ー" for ch in text)


def spelling_variants(term: str) -> list[str]:
    out = []
    for table in (US_UK, UK_US):
        variant = term
        for pattern, repl in table:
            variant = re.sub(pattern, repl, variant)
        if variant != term and variant not in out:
            out.append(variant)
    return out


def ja_variants(term: str) -> list[str]:
    out = [term]
    for old, new in JA_SUBSTITUTIONS:
        for t in list(out):
            if old in t:
                v = t.replace(old, new)
                if v not in out:
                    out.append(v)
    return out[1:]


PAREN = re.compile(r"\s*\(([^()]*)\)\s*")
QUALIFIER = re.compile(
    r"^(e\.g\.|esp\.|i\.e\.|usu\.|incl\.|in |of |as |on |at |for |from |by |with |which |that |"
    r"something|someone|one's|also|abbr|orig|lit\.|fig\.|obs|medical|disease|a |an |the |"
    r"former|formerly|now |see |colloq|incorrect|sometimes|often|mainly|usually|general term)",
    re.IGNORECASE,
)


def clean_gloss(gloss: str) -> list[str]:
    """A gloss as usable English terms (none when it describes rather than names)."""
    g = gloss.strip()
    if not g or g.lower().startswith(("to ", "being ", "having ", "one who", "person ")):
        return []
    extra: list[str] = []
    bare = " ".join(PAREN.sub(" ", g).split())
    bare_variants = {w for v in spelling_variants(bare) for w in norm(v).split()}

    def paren(m: re.Match[str]) -> str:
        inner = m.group(1).strip()
        if not inner or QUALIFIER.match(inner) or norm(inner) in bare_variants:
            return " "
        # "gonadotropic hormone (gonadotrophic)": another spelling of a word already there.
        if " " not in inner and any(w[:6] == norm(inner)[:6] for w in norm(bare).split() if len(w) >= 6):
            return " "
        # "(NSAID)", "(Fasciola hepatica)": a second name of the same thing.
        if re.fullmatch(r"[A-Z0-9][A-Z0-9-]{1,9}", inner) or re.fullmatch(r"[A-Z][a-z]+ [a-z]{3,}", inner):
            extra.append(inner)
            return " "
        # "(catalytic) poison" keeps the word; "amyotrophy (muscular atrophy)" is a second name;
        # longer asides go.
        if len(inner.split()) > 3:
            return " "
        if m.start() > 0 and len(inner.split()) > 1:
            extra.append(inner)
            return " "
        return " " + inner + " "

    g = PAREN.sub(paren, g)
    g = " ".join(g.split()).strip(" ,;:.")
    g = re.sub(r"^(a|an|the) ", "", g, flags=re.IGNORECASE)
    out = []
    for term in [g] + extra:
        if "(" in term or ")" in term or ";" in term or "..." in term:
            continue
        if len(term) < 3 or len(term.split()) > 6 or NON_CONCEPT.search(term):
            continue
        out.append(term)
    return out


@dataclass
class Sense:
    idseq: int
    sid: int
    fields: set[str]
    misc: set[str]
    pos: list[str]
    glosses: list[str]
    stagk: set[str]
    stagr: set[str]


@dataclass
class Node:
    """One selected entry: its usable forms and the glosses of its selected senses."""

    idseq: int
    ja: list[str]
    en: list[str]
    fields: set[str]
    priority: int
    kind_hint: str | None = None


@dataclass
class Concept:
    id: str
    kind: str
    ja: list[str]
    en: list[str]
    broader: list[str] = field(default_factory=list)
    source: str = "jmdict"
    own: set[str] = field(default_factory=set)


def open_db(path: Path) -> tuple[sqlite3.Connection, str | None]:
    if path.suffix == ".xz":
        tmpdir = tempfile.mkdtemp(prefix="glossary-")
        out = Path(tmpdir) / "jamdict.db"
        print(f"unpacking {path} to {out} …", file=sys.stderr)
        with lzma.open(path) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst, length=1 << 20)
        return sqlite3.connect(out), tmpdir
    return sqlite3.connect(path), None


def load_senses(con: sqlite3.Connection) -> dict[int, list[Sense]]:
    """Every JMdict sense, grouped by entry (JMnedict is not used)."""
    multi: dict[str, dict[int, list[str]]] = {}
    for table in ("field", "misc", "pos", "stagk", "stagr"):
        d: dict[int, list[str]] = defaultdict(list)
        for sid, text in con.execute(f"SELECT sid, text FROM {table}"):
            d[sid].append(text)
        multi[table] = d
    glosses: dict[int, list[str]] = defaultdict(list)
    for sid, text in con.execute("SELECT sid, text FROM SenseGloss WHERE lang = 'eng' ORDER BY rowid"):
        glosses[sid].append(text)
    senses: dict[int, list[Sense]] = defaultdict(list)
    for sid, idseq in con.execute("SELECT ID, idseq FROM Sense ORDER BY ID"):
        senses[idseq].append(
            Sense(
                idseq=idseq,
                sid=sid,
                fields=set(multi["field"].get(sid, [])),
                misc=set(multi["misc"].get(sid, [])),
                pos=multi["pos"].get(sid, []),
                glosses=glosses.get(sid, []),
                stagk=set(multi["stagk"].get(sid, [])),
                stagr=set(multi["stagr"].get(sid, [])),
            )
        )
    # A sense without its own part of speech inherits the previous sense's.
    for lst in senses.values():
        prev: list[str] = []
        for s in lst:
            if not s.pos:
                s.pos = prev
            prev = s.pos
    return senses


def load_forms(con: sqlite3.Connection, table: str, info: str) -> dict[int, list[tuple[str, set[str], int]]]:
    infos: dict[int, set[str]] = defaultdict(set)
    for kid, text in con.execute(f"SELECT kid, text FROM {info}"):
        infos[kid].add(text)
    prio: dict[int, int] = defaultdict(int)
    pri_table = "KJP" if table == "Kanji" else "KNP"
    for kid, text in con.execute(f"SELECT kid, text FROM {pri_table}"):
        if text in ("news1", "ichi1", "spec1", "gai1"):
            prio[kid] += 2
        else:
            prio[kid] += 1
    forms: dict[int, list[tuple[str, set[str], int]]] = defaultdict(list)
    for kid, idseq, text in con.execute(f"SELECT ID, idseq, text FROM {table} ORDER BY ID"):
        forms[idseq].append((text, infos.get(kid, set()), prio.get(kid, 0)))
    return forms


# An untagged sense is kept only when its kanji form contains one of these characters (or the
# word is a katakana loanword): a gloss alone ("nostalgia", "normal goods") is not enough.
MED_KANJI = set(
    "病症炎癌腫瘍胞菌疫患傷痛療薬剤診術血骨筋肝腎肺胃腸脳臓膜腺酵尿便膚歯咽喉頸頚脊髄椎"
    "腱靭胆膵脾膀胱卵巣梗塞潰嚢瘤疾痺萎縮毒創咳喘瀉痢瘡疹痒漿粘栓脈胎妊娠娩腹胸肋腰臀股膝"
    "肘肩瘢痕嚥咀嚼膿痰皮眼耳鼻免染"
)


def medical_form(forms: list[str], glosses: list[str]) -> bool:
    if any(ch in MED_KANJI for f in forms for ch in f):
        return True
    # A katakana loanword needs a gloss that names a disease, cell, target, organism,
    # modality or technique outright.
    if forms and all(is_kana(f) and not is_hiragana(f) for f in forms):
        text = " ; ".join(norm(g) for g in glosses)
        return any(re.search(r"\b" + pattern + r"\b", text)
                   for kind, pattern in KIND_PATTERNS if kind not in ("anatomy", "mechanism"))
    return False


def life_science_sense(s: Sense) -> bool:
    if s.misc & EXCLUDED_MISC:
        return False
    if not any(p.startswith(NOUN_POS) for p in s.pos):
        return False
    text = " ; ".join(s.glosses)
    if s.fields & LIFE_FIELDS:
        return True
    if CHEMISTRY in s.fields:
        return bool(BIO_WORDS.search(text)) or bool(
            re.search(r"\w+(ine|ide|ate|ase|ose|ol|one|ene|yl|acid)\b", text)
        )
    if s.fields:
        # Tagged for another field (computing, Buddhism, sports, …): not ours.
        return False
    return bool(BIO_WORDS.search(text))


def tagged_sense(s: Sense) -> bool:
    return bool(s.fields & (LIFE_FIELDS | {CHEMISTRY}))


KIND_PATTERNS = (
    ("mechanism", r"(mitosis|meiosis|osmosis|symbiosis|apoptosis|\w*cytosis|homeostasis|"
                  r"\w+genesis|\w+lysis|metabolism|reflex|secretion|synthesis|expression|"
                  r"transcription|translation|replication|signal\w*|pathway|differentiation|"
                  r"proliferation|mutation|division|fertili[sz]ation|respiration|circulation|"
                  r"absorption|excretion|metastasis|resistance|tolerance|immunity|inheritance|"
                  r"folding|binding|uptake|transport|regulation|activation|inhibition|"
                  r"recombination|methylation|phosphorylation|oxidation|reduction|cycle|"
                  r"coagulation|clotting|fixation|modification)"),
    ("organism", r"(virus\w*|bacteri\w*|fung(i|us)|parasites?|microbes?|bacill\w*|\w*coccus|"
                 r"\w*cocci|protozoa\w*|yeasts?|molds?|moulds?|worms?|mites?|plasmodium|"
                 r"mosquito\w*|ticks?|phages?|flukes?|amoeba\w*|spirochetes?|rickettsia\w*)"),
    ("cell", r"(\w+cytes?|\w+blasts?|macrophages?|cells?|neurons?|platelets?|gametes?|ova|ovum|"
             r"sperm\w*|zygotes?|corpuscles?|granulocytes?)"),
    ("disease", r"(cancers?|carcinomas?|tumou?rs?|sarcomas?|leuk(a)?emias?|lymphomas?|melanomas?|"
                r"neoplasm\w*|diseases?|syndromes?|disorders?|infections?|\w+itis|\w{3,}osis|"
                r"\w+(a)?emia|\w+plasia|\w+trophy|\w+algia|\w+opathy|palsy|paralysis|dementia|"
                r"diabetes|hypertension|hypotension|asthma|allerg(y|ies)|dystrophy|sclerosis|ulcers?|"
                r"hernias?|fractures?|poisoning|deficiency|failure|insufficiency|\w+omas?|"
                r"\w+rrh(o)?ea|fever|\w*pox|plague|cholera|injur(y|ies)|lesions?|infarction|"
                r"stroke|aneurysms?|embolism|thrombosis|stenosis|obesity|autism|depression|"
                r"schizophrenia|epilepsy|migraine|insomnia|hyper\w+ism|hypo\w+ism|\w+ism|"
                r"inflammation|edema|oedema|atrophy|necrosis|fibrosis|cirrhosis|\w+uria|"
                r"abscess|cyst|polyps?|obstruction|bleeding|hemorrhage|haemorrhage|anomal(y|ies)|"
                r"malformations?|defects?|dysfunction|dysplasia|retardation|addiction|dependence|"
                r"illness|sickness|complications?|symptoms?|pain|ache|pneumonia|syphilis|torsion|"
                r"\w+cele|\w+malacia|gumma|\w*phobia|spasm|\w+rexia|\w+plegia|\w+paresis|"
                r"infiltration|nephrosis|gout|measles|rubella|mumps|tetanus|rabies|leprosy|rupture|arrest)"),
    ("target", r"(receptors?|\w+ases?|enzymes?|hormones?|genes?|proteins?|antigens?|cytokines?|"
               r"interleukin\w*|interferon\w*|\w*globulins?|factors?|channels?|chromosomes?|"
               r"alleles?|oncogenes?|albumin|collagen|keratin|actin|myosin|tubulin|fibrin\w*|"
               r"thrombin|ferritin|hemoglobin|haemoglobin|myoglobin|lectins?|transporters?|"
               r"peptides?|neurotransmitters?|ligands?|dna|rna|genome|telomeres?|histones?|"
               r"prions?|amyloids?|antibod(y|ies)_target)"),
    ("modality", r"(therap(y|ies)|vaccines?|vaccination|drugs?|medicines?|medications?|antibiotics?|"
                 r"inhibitors?|agonists?|antagonists?|blockers?|analgesics?|an(a)?esthetics?|"
                 r"agents?|transplant\w*|antibod(y|ies)|steroids?|insulin|\w*cillin|vitamins?|"
                 r"chemotherapy|radiotherapy|\w+mab|\w+mycin|\w+micin|\w+statin|preparations?|"
                 r"injections?|ointments?|tablets?|remed(y|ies)|serum|antidotes?|antiserum|"
                 r"diuretics?|sedatives?|laxatives?|antipyretics?|\w+ides?|\w+ines?|\w+ol|"
                 r"supplements?|treatment|transfusion)"),
    ("technique", r"(\w+ectomy|\w+otomy|\w+ostomy|\w+plasty|\w+scopy|\w+scopes?|\w+graphy|"
                  r"\w+grams?|surgery|operation|tests?|testing|assays?|examination|imaging|"
                  r"microscop\w*|sequencing|diagnos\w*|screening|biops(y|ies)|staining|culture|"
                  r"methods?|techniques?|analysis|measurement|ultrasound|tomography|resonance|"
                  r"electrophoresis|chromatography|spectrometry|dialysis|an(a)?esthesia|sutures?|"
                  r"incision|scans?|monitoring|probes?|markers?|counts?|procedures?|"
                  r"inoculation|sterili[sz]ation|disinfection|\w+meters?)"),
    ("anatomy", r"(arter(y|ies)|veins?|nerves?|glands?|muscles?|bones?|organs?|lobes?|cortex|ducts?|"
                r"valves?|ventricles?|atri(um|a)|membranes?|tissues?|vessels?|ligaments?|tendons?|"
                r"cartilage|marrow|nucle(us|i)|ganglia|ganglion|canals?|cavity|sinus|tract|liver|"
                r"kidneys?|lungs?|heart|brain|spleen|pancreas|stomach|intestines?|bowel|colon|"
                r"rectum|bladder|uterus|ovar(y|ies)|testes|testicles?|prostate|thyroid|skin|"
                r"spine|vertebra\w*|skull|pelvis|retina|cornea|lens|iris|eardrum|cochlea|joints?|"
                r"fibers?|fibres?|lobules?|villi|follicles?|papillae?|epithelium|endothelium|"
                r"mucosa|cells? wall|\w+ium|\w+um|region|area|cord|root|plexus|artery)"),
)


JA_DISEASE_SUFFIX = ("症", "病", "炎", "腫", "癌", "がん", "症候群", "障害", "不全", "潰瘍", "中毒")


def classify(en_terms: list[str], fields: set[str], ja_terms: list[str] = ()) -> str:
    """A kind from the head word of the preferred English label, then from all labels; a
    Japanese label ending in 症, 病, 炎… says disease when the English is not conclusive."""
    head = norm(en_terms[0]).replace("-", " ").split()[-1]
    for kind, pattern in KIND_PATTERNS:
        if re.fullmatch(pattern, head):
            if kind == "anatomy" and not ("anatomy" in fields or re.fullmatch(KIND_PATTERNS[-1][1].split("|\\w+ium")[0] + ")", head)):
                continue
            return kind
    if ja_terms and ja_terms[0].endswith(JA_DISEASE_SUFFIX) and not ja_terms[0].endswith("細胞"):
        return "disease"
    text = " ; ".join(norm(t) for t in en_terms)
    for kind, pattern in KIND_PATTERNS:
        if kind == "anatomy":
            continue
        if re.search(r"\b" + pattern + r"\b", text):
            return kind
    if "anatomy" in fields:
        return "anatomy"
    # A single-word drug name from the medicine or pharmacy field (tegafur, doxorubicin).
    if fields & {"medicine", "pharmacy"} and re.fullmatch(
        r"\w+(ine|ol|ide|fur|nib|mab|vir|cin|pam|lam|zole|pril|sartan|statin|dronate|parin|mide|"
        r"one|ate|xin|rin|lin|fen|pine|pam|tide)", head
    ):
        return "modality"
    return "general"


def slug(text: str) -> str:
    t = unicodedata.normalize("NFKD", text)
    t = t.replace("α", "alpha").replace("β", "beta").replace("γ", "gamma").replace("κ", "kappa")
    t = "".join(ch for ch in t if ord(ch) < 128)
    t = re.sub(r"[^a-z0-9]+", "-", t.lower()).strip("-")
    return t or "concept"


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.size: dict[int, int] = {}

    def add(self, x: int) -> None:
        if x not in self.parent:
            self.parent[x] = x
            self.size[x] = 1

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]


# A concept that grows past this many JMdict entries by shared glosses is a chain of
# different meanings, not a set of synonyms.
MAX_ENTRIES_PER_CONCEPT = 6


def select_nodes(con: sqlite3.Connection, curated_drop_ja: set[str], curated_drop_en: set[str],
                 drop_entries: set[int], stats: Counter) -> list[Node]:
    senses = load_senses(con)
    kanji = load_forms(con, "Kanji", "KJI")
    kana = load_forms(con, "Kana", "KNI")

    # How many entries outside the selection carry each English gloss or kana form: a term
    # that many other entries share is not specific.
    selected: dict[int, list[Sense]] = {}
    for idseq, lst in senses.items():
        if idseq in drop_entries:
            continue
        keep = [s for s in lst if life_science_sense(s)]
        forms = [t for t, _, _ in kanji.get(idseq, [])] or [t for t, _, _ in kana.get(idseq, [])]
        keep = [s for s in keep if tagged_sense(s) or medical_form(forms, s.glosses)]
        # A word whose first meaning is something else (擦り合わせ: rubbing together, and only
        # later margination) is not evidence of the life-science meaning in running text.
        if keep and keep[0].sid != lst[0].sid:
            stats["entries dropped: life-science sense is not the first"] += 1
            continue
        if keep:
            selected[idseq] = keep
    stats["entries selected"] = len(selected)
    stats["senses selected"] = sum(len(v) for v in selected.values())

    gloss_elsewhere: Counter = Counter()
    for idseq, lst in senses.items():
        chosen = {s.sid for s in selected.get(idseq, [])}
        seen = set()
        for s in lst:
            if s.sid in chosen:
                continue
            for g in s.glosses:
                for c in clean_gloss(g):
                    seen.add(norm(c))
        for key in seen:
            gloss_elsewhere[key] += 1
    kana_entries: Counter = Counter()
    for idseq, forms in kana.items():
        for text, _, _ in forms:
            kana_entries[clean_ja(text)] += 1

    nodes: list[Node] = []
    for idseq, keep in selected.items():
        all_senses = senses[idseq]
        kforms = [(clean_ja(t), info, p) for t, info, p in kanji.get(idseq, []) if not info & BAD_FORM_INFO]
        rforms = [(clean_ja(t), info, p) for t, info, p in kana.get(idseq, []) if not info & BAD_FORM_INFO]
        restrict_k = set().union(*(s.stagk for s in keep)) if all(s.stagk for s in keep) else set()
        restrict_r = set().union(*(s.stagr for s in keep)) if all(s.stagr for s in keep) else set()
        if restrict_k:
            kforms = [f for f in kforms if f[0] in {clean_ja(x) for x in restrict_k}]
        if restrict_r:
            rforms = [f for f in rforms if f[0] in {clean_ja(x) for x in restrict_r}]
        usually_kana = any("word usually written using kana alone" in s.misc for s in keep)
        ja: list[str] = []
        prio = max([p for _, _, p in kforms] + [p for _, _, p in rforms] + [0])
        for text, _, _ in kforms:
            ja.append(text)
        # Kana forms: the word itself when it has no kanji (loanwords) or is usually written
        # in kana; never a kana reading that another entry shares (がん: face, wild goose).
        every_sense_selected = len(keep) == len(all_senses)
        if not kforms or usually_kana:
            for text, _, _ in rforms:
                if kana_entries[text] > 1 and not (kforms == [] and every_sense_selected and is_kana(text) and not is_hiragana(text)):
                    stats["kana forms dropped as ambiguous"] += 1
                    continue
                if is_hiragana(text) and len(text) <= 2:
                    stats["kana forms dropped as too short"] += 1
                    continue
                ja.append(text)
        ja = [t for t in dict.fromkeys(ja) if t not in GENERIC_JA and t not in curated_drop_ja]
        ja = [t for t in ja if len(t) > 1 or t in SINGLE_CHAR_JA_ALLOWED]
        ja = [t for t in ja if not re.fullmatch(r"[A-Za-z0-9]{1,3}", t)]
        en: list[str] = []
        fields: set[str] = set()
        for s in keep:
            fields |= s.fields
            for c in (c for g in s.glosses for c in clean_gloss(g)):
                key = norm(c)
                if key in curated_drop_en:
                    continue
                if key in GENERIC_EN and key not in GENERIC_EN_ALLOWED:
                    stats["English terms dropped as generic (list)"] += 1
                    continue
                # A one-word gloss that names something else in at least two other entries is
                # an everyday word, not evidence.
                if " " not in key and gloss_elsewhere[key] >= 2 and key not in GENERIC_EN_ALLOWED:
                    stats["English terms dropped as generic (shared)"] += 1
                    continue
                # Short acronyms from the dictionary are ambiguous across fields (MOF, FAS, LDS);
                # the curated file lists the ones that are not.
                if len(key) <= 2 or re.fullmatch(r"[A-Z0-9]{2,3}s?", c):
                    stats["English terms dropped as short acronyms"] += 1
                    continue
                en.append(c)
        en = list(dict.fromkeys(en))
        if not ja or not en:
            stats["entries without usable ja or en"] += 1
            continue
        nodes.append(Node(idseq=idseq, ja=ja, en=en, fields=fields, priority=prio))
    return nodes


def merge_nodes(nodes: list[Node], stats: Counter) -> list[Concept]:
    uf = UnionFind()
    for i in range(len(nodes)):
        uf.add(i)
    by_term: dict[str, list[int]] = defaultdict(list)
    for i, n in enumerate(nodes):
        for t in n.ja + n.en:
            by_term[norm(t)].append(i)
    # Rare terms first, so that a synonym pair joins before a broad term could chain them.
    refused: dict[str, list[int]] = {}
    for term, members in sorted(by_term.items(), key=lambda kv: (len(kv[1]), kv[0])):
        if len(members) < 2:
            continue
        roots = {uf.find(m) for m in members}
        total = sum(uf.size[r] for r in roots)
        if total > MAX_ENTRIES_PER_CONCEPT:
            refused[term] = members
            continue
        for m in members[1:]:
            uf.union(members[0], m)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(nodes)):
        groups[uf.find(i)].append(i)

    # A refused term stays only with the most prominent of the groups that carry it.
    owner: dict[str, int] = {}
    for term, members in refused.items():
        roots = sorted({uf.find(m) for m in members},
                       key=lambda r: (-max(nodes[m].priority for m in groups[r]), min(groups[r])))
        if len(roots) > 1:
            owner[term] = roots[0]
            stats["terms kept by one of several concepts"] += 1

    concepts: list[Concept] = []
    for root, members in groups.items():
        members.sort(key=lambda m: (-nodes[m].priority, nodes[m].idseq))
        ja: list[str] = []
        en_count: Counter = Counter()
        en_order: list[str] = []
        fields: set[str] = set()
        for m in members:
            n = nodes[m]
            fields |= n.fields
            for t in n.ja:
                if owner.get(norm(t), root) == root:
                    ja.append(t)
            for t in n.en:
                if owner.get(norm(t), root) == root:
                    en_count[norm(t)] += 1
                    en_order.append(t)
        ja = list(dict.fromkeys(ja))
        # Kanji forms before kana, keeping prominence order within each.
        ja.sort(key=lambda t: is_kana(t))
        en_seen: dict[str, str] = {}
        for t in en_order:
            en_seen.setdefault(norm(t), t)
        first = en_order[0] if en_order else None
        en = sorted(en_seen.values(), key=lambda t: (t != first, -en_count[norm(t)], en_order.index(t)))
        if not ja or not en:
            continue
        concepts.append(Concept(id="", kind=classify(en, fields, ja), ja=ja, en=en))
    return concepts


def add_variants(c: Concept) -> None:
    en = list(c.en)
    for t in c.en:
        for v in spelling_variants(t):
            if v not in en:
                en.append(v)
    c.en = en
    ja = list(c.ja)
    for t in c.ja:
        for v in ja_variants(t):
            if v not in ja:
                ja.append(v)
    c.ja = ja


def load_curated(path: Path) -> dict:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    for i, c in enumerate(data.get("concept", [])):
        for key in ("id", "kind", "ja", "en"):
            if key not in c:
                raise SystemExit(f"{path}: concept #{i + 1} has no `{key}`")
        if c["kind"] not in KINDS:
            raise SystemExit(f"{path}: concept {c['id']}: unknown kind {c['kind']!r}")
    return data


def apply_curated(concepts: list[Concept], curated: dict, stats: Counter, log: list[str]) -> list[Concept]:
    """Curated concepts win: each absorbs the generated concepts that share its id or a term."""
    def index(cs: list[Concept]) -> dict[str, int]:
        idx: dict[str, int] = {}
        for i, c in enumerate(cs):
            for t in c.ja + c.en:
                idx.setdefault(norm(t), i)
        return idx

    detach = {norm(t) for t in curated.get("detach_terms", [])}
    result = list(concepts)
    for cur in curated.get("concept", []):
        idx = index(result)
        by_id = {c.id: i for i, c in enumerate(result) if c.id}
        hits: set[int] = set()
        if cur["id"] in by_id:
            hits.add(by_id[cur["id"]])
        own_keys = {norm(t) for t in cur["ja"] + cur["en"]}
        for t in cur["ja"] + cur["en"]:
            k = norm(t)
            if k in idx and k not in detach and not cur.get("isolate", False):
                other = result[idx[k]]
                if other.source == "curated":
                    if k in other.own:
                        raise SystemExit(f"curated concepts {other.id} and {cur['id']} both list {t!r}: "
                                         "merge them or list the term in shared_terms")
                    # A term the earlier curated concept only absorbed from JMdict: the later one,
                    # which names it, takes it.
                    log.append(f"{cur['id']} takes {t!r} from {other.id}")
                    continue
                hits.add(idx[k])
        ja = list(cur["ja"])
        en = list(cur["en"])
        absorbed = []
        for i in sorted(hits):
            other = result[i]
            absorbed.append(f"{other.id or other.en[0]}")
            if not cur.get("replace", False):
                ja += other.ja
                en += other.en
        if absorbed:
            stats["generated concepts absorbed by curated ones"] += len(absorbed)
            log.append(f"{cur['id']} absorbs {', '.join(absorbed)}")
        keep_out = {norm(t) for t in cur.get("exclude", [])}
        result = [c for i, c in enumerate(result) if i not in hits]
        # A term the curated concept claims leaves every other concept.
        for c in result:
            c.ja = [t for t in c.ja if norm(t) not in own_keys]
            c.en = [t for t in c.en if norm(t) not in own_keys]
        result = [c for c in result if c.ja and c.en]
        ja = [t for t in dict.fromkeys(clean_ja(x) for x in ja) if norm(t) not in keep_out]
        en_d: dict[str, str] = {}
        for t in en:
            if norm(t) not in keep_out:
                en_d.setdefault(norm(t), t)
        result.append(Concept(id=cur["id"], kind=cur["kind"], ja=ja, en=list(en_d.values()),
                              broader=list(cur.get("broader", [])), source="curated",
                              own=own_keys))
        stats["curated concepts"] += 1
    return result


def assign_ids(concepts: list[Concept]) -> None:
    taken = {c.id for c in concepts if c.id}
    for c in concepts:
        if c.id:
            continue
        candidates = [slug(t) for t in c.en]
        cid = next((s for s in candidates if s not in taken and s != "concept"), None)
        if cid is None:
            base = candidates[0]
            n = 2
            while f"{base}-{n}" in taken:
                n += 1
            cid = f"{base}-{n}"
        c.id = cid
        taken.add(cid)


def assign_broader(concepts: list[Concept]) -> None:
    """A concept whose English label ends with another concept's term is narrower than it."""
    en_index: dict[str, str] = {}
    for c in concepts:
        for t in c.en:
            en_index.setdefault(norm(t), c.id)
    for c in concepts:
        if c.broader:
            continue
        words = norm(c.en[0]).split()
        for k in range(1, len(words)):
            tail = " ".join(words[k:])
            target = en_index.get(tail)
            if target and target != c.id:
                c.broader = [target]
                break


def dedupe_terms(concepts: list[Concept], shared: set[str], stats: Counter) -> None:
    """After variants, a term in two concepts stays with the curated one, else the first."""
    owner: dict[str, str] = {}
    ordered = sorted(concepts, key=lambda c: (c.source != "curated", c.id))
    for c in ordered:
        for lang in ("ja", "en"):
            kept = []
            for t in getattr(c, lang):
                k = norm(t)
                if k in shared:
                    kept.append(t)
                    continue
                if k in owner and owner[k] != c.id:
                    stats["duplicate terms removed"] += 1
                    continue
                if k in {norm(x) for x in kept}:
                    continue
                owner[k] = c.id
                kept.append(t)
            setattr(c, lang, kept)


def validate(concepts: list[dict], shared: list[str]) -> list[str]:
    errors = []
    ids = Counter(c.get("id") for c in concepts)
    for cid, n in ids.items():
        if n > 1:
            errors.append(f"id {cid!r} is used {n} times")
    known = set(ids)
    shared_keys = {norm(t) for t in shared}
    owner: dict[str, str] = {}
    for c in concepts:
        cid = c.get("id", "?")
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", str(cid)):
            errors.append(f"id {cid!r} is not lowercase ASCII words joined by '-'")
        if c.get("kind") not in KINDS:
            errors.append(f"{cid}: unknown kind {c.get('kind')!r}")
        for lang in ("ja", "en"):
            terms = c.get(lang) or []
            if not terms:
                errors.append(f"{cid}: no {lang} term")
            for t in terms:
                if not isinstance(t, str) or not t.strip():
                    errors.append(f"{cid}: empty {lang} term")
                    continue
                k = norm(t)
                if k in shared_keys:
                    continue
                if k in owner and owner[k] != cid:
                    errors.append(f"term {t!r} belongs to {owner[k]} and {cid}")
                owner.setdefault(k, cid)
        for b in c.get("broader", []):
            if b not in known:
                errors.append(f"{cid}: broader {b!r} does not exist")
            if b == cid:
                errors.append(f"{cid}: broader than itself")
    for t in shared:
        if norm(t) not in owner and not any(norm(t) in {norm(x) for x in c.get("ja", []) + c.get("en", [])} for c in concepts):
            errors.append(f"shared term {t!r} is in no concept")
    return errors


def toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(toml_str(x) for x in items) + "]"


HEADER = """\
# Kakehashi bilingual life-science glossary: Japanese <-> English concepts (diseases, modalities,
# targets, mechanisms, techniques, anatomy, cells, organisms and the loanwords of the field).
# Search expands queries through it and matching counts the concepts two records share.
#
# GENERATED FILE, do not edit by hand: change tools/glossary/curated.toml or the selection rules in
# tools/glossary/generate.py and regenerate (see tools/glossary/README.md):
#   python3 tools/glossary/generate.py --db /path/to/jamdict_data/jamdict.db.xz
#
# Licence: Creative Commons Attribution-ShareAlike 3.0 (CC BY-SA 3.0). This file is derived from
# JMdict (version {version}), copyright James William Breen and The Electronic Dictionary Research and
# Development Group (EDRDG), used under the EDRDG licence, with curated additions by the Kakehashi
# project, released under the same licence. See config/glossary.LICENSE.md and
# https://www.edrdg.org/wiki/index.php/JMdict-EDICT_Dictionary_Project
#
# Format: each [[concept]] has a unique `id`, a `kind`, `ja` and `en` terms (the first of each is the
# preferred label) and optional `broader` concept ids. After NFKC and lower-casing no term belongs to
# two concepts unless it is listed in `shared_terms`.
#
# {count} concepts: {kinds}
"""


def write(concepts: list[Concept], shared: list[str], out: Path, version: str) -> None:
    kinds = Counter(c.kind for c in concepts)
    lines = [HEADER.format(version=version, count=len(concepts),
                           kinds=", ".join(f"{k} {kinds[k]}" for k in KINDS if kinds[k]))]
    lines.append("# Terms written alike once analysed (hyphens, the stop word \"a\", dictionary segmentation)\n"
                 "# that stay in two concepts; the first concept in the file keeps the term.")
    lines.append(f"shared_terms = {toml_list(shared)}\n")
    for c in sorted(concepts, key=lambda c: c.id):
        lines.append("[[concept]]")
        lines.append(f"id = {toml_str(c.id)}")
        lines.append(f"kind = {toml_str(c.kind)}")
        lines.append(f"ja = {toml_list(c.ja)}")
        lines.append(f"en = {toml_list(c.en)}")
        if c.broader:
            lines.append(f"broader = {toml_list(c.broader)}")
        lines.append("")
    tmp = out.with_suffix(".toml.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.replace(tmp, out)


def summary(concepts: list[dict]) -> str:
    kinds = Counter(c["kind"] for c in concepts)
    ja = sum(len(c["ja"]) for c in concepts)
    en = sum(len(c["en"]) for c in concepts)
    with_broader = sum(1 for c in concepts if c.get("broader"))
    out = [f"{len(concepts)} concepts, {ja} Japanese terms, {en} English terms, "
           f"{with_broader} with a broader concept"]
    out += [f"  {k:<10} {kinds[k]}" for k in KINDS]
    return "\n".join(out)


def check_file(path: Path, required: list[str]) -> int:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    concepts = data.get("concept", [])
    errors = validate(concepts, data.get("shared_terms", []))
    keys = {norm(t) for c in concepts for t in c["ja"] + c["en"]}
    missing = [t for t in required if norm(t) not in keys]
    print(summary(concepts))
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    if missing:
        print("missing required terms: " + ", ".join(missing), file=sys.stderr)
    if len(concepts) < 1000:
        print(f"error: only {len(concepts)} concepts (at least 1,000 required)", file=sys.stderr)
    return 1 if errors or missing or len(concepts) < 1000 else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, help="jamdict.db or jamdict.db.xz from the jamdict-data package")
    ap.add_argument("--curated", type=Path, default=HERE / "curated.toml")
    ap.add_argument("--out", type=Path, default=ROOT / "config" / "glossary.toml")
    ap.add_argument("--check", type=Path, help="validate an existing glossary file and print its summary")
    ap.add_argument("--sample", type=int, default=0, help="print N random concepts for review")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log", type=Path, help="write the curated merge log here")
    args = ap.parse_args()

    curated = load_curated(args.curated)
    required = list(curated.get("required_terms", []))
    if args.check:
        code = check_file(args.check, required)
        if args.sample:
            print_sample(tomllib.loads(args.check.read_text(encoding="utf-8"))["concept"], args.sample, args.seed)
        return code
    if not args.db:
        ap.error("--db is required (see tools/glossary/README.md), or use --check FILE")

    con, tmpdir = open_db(args.db)
    try:
        version = dict(con.execute("SELECT key, value FROM meta").fetchall()).get("jmdict.version", "?")
        stats: Counter = Counter()
        drop_ja = {clean_ja(t) for t in curated.get("drop_terms", [])}
        drop_en = {norm(t) for t in curated.get("drop_terms", [])}
        nodes = select_nodes(con, drop_ja, drop_en, set(curated.get("drop_entries", [])), stats)
    finally:
        con.close()
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    concepts = merge_nodes(nodes, stats)
    for c in concepts:
        add_variants(c)
    assign_ids(concepts)
    drop_ids = set(curated.get("drop_ids", []))
    concepts = [c for c in concepts if c.id not in drop_ids]
    log: list[str] = []
    concepts = apply_curated(concepts, curated, stats, log)
    for c in concepts:
        if c.source == "curated":
            add_variants(c)
    shared = list(curated.get("shared_terms", []))
    dedupe_terms(concepts, {norm(t) for t in shared}, stats)
    concepts = [c for c in concepts if c.ja and c.en]
    assign_broader(concepts)
    known = {c.id for c in concepts}
    for c in concepts:
        c.broader = [b for b in dict.fromkeys(c.broader) if b in known and b != c.id]

    as_dicts = [{"id": c.id, "kind": c.kind, "ja": c.ja, "en": c.en, "broader": c.broader} for c in concepts]
    errors = validate(as_dicts, shared)
    keys = {norm(t) for c in concepts for t in c.ja + c.en}
    missing = [t for t in required if norm(t) not in keys]
    for k, v in sorted(stats.items()):
        print(f"{k}: {v}", file=sys.stderr)
    if args.log:
        args.log.write_text("\n".join(log) + "\n", encoding="utf-8")
    if errors or missing or len(concepts) < 1000:
        for e in errors[:50]:
            print(f"error: {e}", file=sys.stderr)
        if missing:
            print("missing required terms: " + ", ".join(missing), file=sys.stderr)
        print("not written", file=sys.stderr)
        return 1
    write(concepts, shared, args.out, version)
    print(summary(as_dicts))
    print(f"wrote {args.out}")
    if args.sample:
        print_sample(as_dicts, args.sample, args.seed)
    return 0


def print_sample(concepts: list[dict], n: int, seed: int) -> None:
    rng = random.Random(seed)
    for c in rng.sample(concepts, min(n, len(concepts))):
        b = f" < {','.join(c['broader'])}" if c.get("broader") else ""
        print(f"{c['id']} [{c['kind']}]{b}: {' / '.join(c['ja'])} | {' / '.join(c['en'])}")


if __name__ == "__main__":
    sys.exit(main())
