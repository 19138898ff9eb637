"""The instrument catalogue: versioned, cited definitions (data only; scoring is in ``scoring.py``).

"§" refers to ``shared/reference/clinical.md``. Full item wording is included only where the instrument is
free to reproduce *and* the reference gives the wording (PHQ-9, PHQ-2, GAD-7, GAD-2). Elsewhere items carry
short topic labels; licensed instruments (MADRS, CADSS) never carry anchor text.
"""

from __future__ import annotations

from .model import (
    AnswerOption,
    Band,
    Instrument,
    Item,
    Licence,
    MissingRule,
    Rater,
    RecallPeriod,
    ScoringRule,
)

# --- shared answer lists ------------------------------------------------------------------------
# PHQ/GAD answer list, LOINC LA codes §4.2 ✅.
PHQ_OPTIONS = (
    AnswerOption(0, "Not at all", "LA6568-5"),
    AnswerOption(1, "Several days", "LA6569-3"),
    AnswerOption(2, "More than half the days", "LA6570-1"),
    AnswerOption(3, "Nearly every day", "LA6571-9"),
)
# GAD forms in the wild (CIRG GAD-7, item 2) code "More days than not" as LA18938-3 instead of LA6570-1
# (reference-data README, known defects); both mean 2.
GAD_OPTIONS = (
    PHQ_OPTIONS[0],
    PHQ_OPTIONS[1],
    AnswerOption(2, "More than half the days", "LA6570-1", variant_loinc=("LA18938-3",)),
    PHQ_OPTIONS[3],
)
# PHQ-9 difficulty item (unscored). §4.2 (◐, one code repo) lists Very = LA6574-3 and Extremely = LA6575-0;
# the LHC forms, the CIRG PHQ-9 and the MII PROMs example all code Very = LA6575-0, Extremely = LA6574-3.
# We follow the three data sources (noted in the report as a reference discrepancy).
DIFFICULTY_OPTIONS = (
    AnswerOption(0, "Not difficult at all", "LA6572-7"),
    AnswerOption(1, "Somewhat difficult", "LA6573-5"),
    AnswerOption(2, "Very difficult", "LA6575-0"),
    AnswerOption(3, "Extremely difficult", "LA6574-3"),
)
YES_NO = (AnswerOption(0, "No"), AnswerOption(1, "Yes"))
PCL5_OPTIONS = (
    AnswerOption(0, "Not at all"),
    AnswerOption(1, "A little bit"),
    AnswerOption(2, "Moderately"),
    AnswerOption(3, "Quite a bit"),
    AnswerOption(4, "Extremely"),
)


def _scale(low: int, high: int) -> tuple[AnswerOption, ...]:
    """Numeric options with numeric labels (anchors not reproduced)."""
    return tuple(AnswerOption(v, str(v)) for v in range(low, high + 1))


TWO_WEEKS = RecallPeriod(14, "days", "Over the last 2 weeks", source="§4.3/§4.4 stem")
NO_PRORATION = MissingRule(
    "No proration rule in the reference: any blank scored item leaves the total unscored (raw sum kept).",
    "not given in clinical.md",
    confirmed=False,
)

# --- PHQ-9 --------------------------------------------------------------------------------------
_PHQ9_ITEMS = (
    ("1", "Interest/pleasure", "Little interest or pleasure in doing things", "44250-9"),
    ("2", "Down/depressed", "Feeling down, depressed, or hopeless", "44255-8"),
    ("3", "Sleep", "Trouble falling or staying asleep, or sleeping too much", "44259-0"),
    ("4", "Tired/energy", "Feeling tired or having little energy", "44254-1"),
    ("5", "Appetite", "Poor appetite or overeating", "44251-7"),
    (
        "6",
        "Feeling bad about self",
        "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
        "44258-2",
    ),
    (
        "7",
        "Concentration",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "44252-5",
    ),
    (
        "8",
        "Psychomotor",
        "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety "
        "or restless that you have been moving around a lot more than usual",
        "44253-3",
    ),
    (
        "9",
        "Thoughts of death/self-harm",
        "Thoughts that you would be better off dead or of hurting yourself in some way",
        "44260-8",
    ),
)
PHQ9_ITEMS = tuple(
    Item(i, label, PHQ_OPTIONS, text=text, loinc=code, safety=(i == "9"))
    for i, label, text, code in _PHQ9_ITEMS
) + (
    Item(
        "10",
        "Difficulty (unscored)",
        DIFFICULTY_OPTIONS,
        text="If you checked off any problems, how difficult have these problems made it for you to do your work, "
        "take care of things at home, or get along with other people?",
        loinc="69722-7",
        scored=False,
        optional=True,
    ),
)
PHQ9_BANDS = (
    Band(0, 4, "none/minimal"),
    Band(5, 9, "mild"),
    Band(10, 14, "moderate"),
    Band(15, 19, "moderately severe"),
    Band(20, 27, "severe"),
)
PHQ9_MISSING = MissingRule(
    "Prorate (mean of answered items x 9, rounded half up) when at most `phq9.prorate_max_missing` non-safety "
    "items are blank; a blank item 9 is never prorated.",
    "§4.3: common pro-rating rule (<=2 missing) ⚠",
    confirmed=False,
    prorate_key="phq9.prorate_max_missing",
)
_PHQ_LICENCE = "Pfizer 2010 free access; phqscreeners: no permission needed to reproduce (§4.2, §4.3, S25) ✅"

PHQ9 = Instrument(
    id="phq9",
    version="1.0.0",
    name="PHQ-9",
    construct="Depressive symptoms (DSM criteria)",
    rater=Rater.SELF,
    recall=TWO_WEEKS,
    items=PHQ9_ITEMS,
    scoring=ScoringRule.SUM,
    bands=PHQ9_BANDS,
    bands_source="§4.1 (Kroenke 2001) ✅",
    licence=Licence.FREE,
    licence_note=_PHQ_LICENCE,
    missing=PHQ9_MISSING,
    source="§4.1, §4.2, §4.3; LOINC S22",
    loinc_panel="44249-1",
    loinc_total="44261-6",
    cutoff_keys=(
        "phq9.prorate_max_missing",
        "outcomes:response.min_reduction_pct",
        "outcomes:remission.phq9",
    ),
    alert_codes=("phq9_item9",),
    notes="Stem: 'Over the last 2 weeks, how often have you been bothered by any of the following problems?'",
)

PHQ9_24H = Instrument(
    id="phq9_24h",
    version="1.0.0",
    name="PHQ-9 (modified 24-hour recall)",
    construct="Depressive symptoms, rapid-response measurement between ketamine sessions",
    rater=Rater.SELF,
    recall=RecallPeriod(
        24,
        "hours",
        "Over the last 24 hours",
        modified=True,
        source="local variant; the validated PHQ-9 recall is 2 weeks (§4.3). Bands not validated for 24 h ⚠",
    ),
    items=PHQ9_ITEMS,
    scoring=ScoringRule.SUM,
    bands=PHQ9_BANDS,
    bands_source="§4.1 bands of the 2-week PHQ-9, applied unvalidated to a 24-hour recall ⚠",
    licence=Licence.FREE,
    licence_note=_PHQ_LICENCE,
    missing=PHQ9_MISSING,
    source="§4.3 items; modified recall is a Kairos variant (not a published instrument) ⚠",
    loinc_panel=None,  # the LOINC panel/total codes denote the 2-week PHQ-9; do not reuse them
    loinc_total=None,
    cutoff_keys=PHQ9.cutoff_keys,
    alert_codes=("phq9_item9",),
)

PHQ2 = Instrument(
    id="phq2",
    version="1.0.0",
    name="PHQ-2",
    construct="Depression screen (PHQ-9 items 1-2)",
    rater=Rater.SELF,
    recall=TWO_WEEKS,
    items=PHQ9_ITEMS[:2],
    scoring=ScoringRule.SUM,
    bands=(),
    bands_source="no bands in the reference; positive-screen cut-off is configurable (⚠)",
    licence=Licence.FREE,
    licence_note=_PHQ_LICENCE,
    missing=NO_PRORATION,
    source="§7.2 (panel 55757-9 ◐, total 55758-7 ⚠); items = PHQ-9 items 1-2 (reference-data README)",
    loinc_panel="55757-9",
    loinc_total="55758-7",
    cutoff_keys=("phq2.positive_screen_min_total",),
    screen_key="phq2.positive_screen_min_total",
)

# --- GAD-7 / GAD-2 ------------------------------------------------------------------------------
_GAD7_ITEMS = (
    ("1", "Nervous/anxious", "Feeling nervous, anxious, or on edge", "69725-0"),
    ("2", "Uncontrolled worry", "Not being able to stop or control worrying", "68509-9"),
    ("3", "Worrying too much", "Worrying too much about different things", "69733-4"),
    ("4", "Trouble relaxing", "Trouble relaxing", "69734-2"),
    ("5", "Restless", "Being so restless that it is hard to sit still", "69735-9"),
    ("6", "Irritable", "Becoming easily annoyed or irritable", "69689-8"),
    ("7", "Afraid", "Feeling afraid, as if something awful might happen", "69736-7"),
)
GAD7_ITEMS = tuple(Item(i, label, GAD_OPTIONS, text=text, loinc=code) for i, label, text, code in _GAD7_ITEMS)

GAD7 = Instrument(
    id="gad7",
    version="1.0.0",
    name="GAD-7",
    construct="Generalized anxiety symptoms",
    rater=Rater.SELF,
    recall=TWO_WEEKS,
    items=GAD7_ITEMS,
    scoring=ScoringRule.SUM,
    bands=(Band(0, 4, "minimal"), Band(5, 9, "mild"), Band(10, 14, "moderate"), Band(15, 21, "severe")),
    bands_source="§4.1 (Spitzer 2006) ✅",
    licence=Licence.FREE,
    licence_note=_PHQ_LICENCE,
    missing=NO_PRORATION,
    source="§4.1, §4.2, §4.4",
    loinc_panel="69737-5",
    loinc_total="70274-6",
    cutoff_keys=("outcomes:response.min_reduction_pct", "outcomes:remission.gad7"),
)

GAD2 = Instrument(
    id="gad2",
    version="1.0.0",
    name="GAD-2",
    construct="Anxiety screen (GAD-7 items 1-2)",
    rater=Rater.SELF,
    recall=TWO_WEEKS,
    items=GAD7_ITEMS[:2],
    scoring=ScoringRule.SUM,
    bands=(),
    bands_source="no bands in the reference; positive-screen cut-off is configurable (⚠)",
    licence=Licence.FREE,
    licence_note=_PHQ_LICENCE,
    missing=NO_PRORATION,
    source="items = GAD-7 items 1-2 (§4.4); GAD-2 panel/total LOINC not in the reference (none used)",
    cutoff_keys=("gad2.positive_screen_min_total",),
    screen_key="gad2.positive_screen_min_total",
)

# --- QIDS-SR16 ----------------------------------------------------------------------------------
_QIDS_LABELS = (
    "Falling asleep",
    "Sleep during the night",
    "Waking up too early",
    "Sleeping too much",
    "Feeling sad",
    "Decreased appetite",
    "Increased appetite",
    "Decreased weight",
    "Increased weight",
    "Concentration/decision making",
    "View of myself",
    "Thoughts of death or suicide",
    "General interest",
    "Energy level",
    "Feeling slowed down",
    "Feeling restless",
)
QIDS_SR16 = Instrument(
    id="qids_sr16",
    version="1.0.0",
    name="QIDS-SR16",
    construct="DSM-IV depressive symptom domains",
    rater=Rater.SELF,
    recall=RecallPeriod(7, "days", "Past 7 days", source="§4.1 ✅ S26"),
    items=tuple(
        Item(str(n), label, _scale(0, 3), safety=(n == 12)) for n, label in enumerate(_QIDS_LABELS, 1)
    ),
    scoring=ScoringRule.MAX_OF_GROUPS,
    groups=(
        ("sleep", ("1", "2", "3", "4")),
        ("sad_mood", ("5",)),
        ("appetite_weight", ("6", "7", "8", "9")),
        ("concentration", ("10",)),
        ("self_criticism", ("11",)),
        ("suicidal_ideation", ("12",)),
        ("interest", ("13",)),
        ("energy", ("14",)),
        ("psychomotor", ("15", "16")),
    ),
    # The form asks for 6 or 7 and for 8 or 9 (decreased or increased appetite / weight): the other item of
    # each pair is left blank (form instructions; issue #12 §5). §4.5 scores the domain as max(6,7,8,9).
    either_or=(("6", "7"), ("8", "9")),
    bands=(
        Band(0, 5, "none"),
        Band(6, 10, "mild"),
        Band(11, 15, "moderate"),
        Band(16, 20, "severe"),
        Band(21, 27, "very severe"),
    ),
    bands_source="§4.5 ✅ S26",
    licence=Licence.FREE,
    licence_note="Freely available for clinical and research use (ids-qids.org) — keep attribution (§4.2 ◐)",
    missing=MissingRule(
        "Each domain is scored from its answered items (max of the answered ones); a domain with no item "
        "answered leaves the total unscored. Item 12 (suicidal ideation) is never prorated.",
        "§4.5 (max-of-groups rule) ✅ S26; scoring a domain from its answered items: issue #12 §5 (Rush 2003 "
        "scoring rule, general knowledge ⚠)",
        confirmed=False,
    ),
    source="§4.5 (max-of-groups rule) ✅ S26; item wording/anchors not in the reference (short labels)",
    cutoff_keys=("outcomes:response.min_reduction_pct", "outcomes:remission.qids_sr16"),
    alert_codes=("qids_item12",),
)

# --- PCL-5 --------------------------------------------------------------------------------------
_PCL5_LABELS = (
    "Repeated disturbing memories",
    "Repeated disturbing dreams",
    "Feeling as if the event were happening again",
    "Upset when reminded",
    "Physical reactions when reminded",
    "Avoiding memories, thoughts or feelings",
    "Avoiding external reminders",
    "Trouble remembering important parts",
    "Strong negative beliefs",
    "Blaming self or others",
    "Strong negative feelings",
    "Loss of interest in activities",
    "Feeling distant or cut off",
    "Trouble experiencing positive feelings",
    "Irritable behaviour or angry outbursts",
    "Taking too many risks",
    "Being superalert or watchful",
    "Jumpy or easily startled",
    "Difficulty concentrating",
    "Trouble falling or staying asleep",
)
PCL5 = Instrument(
    id="pcl5",
    version="1.0.0",
    name="PCL-5",
    construct="DSM-5 PTSD symptoms",
    rater=Rater.SELF,
    recall=RecallPeriod(1, "months", "Past month", source="§4.1 ✅"),
    items=tuple(Item(str(n), label, PCL5_OPTIONS) for n, label in enumerate(_PCL5_LABELS, 1)),
    scoring=ScoringRule.SUM,
    bands=(),
    bands_source="§4.1: no severity bands; provisional PTSD at the configurable cut-off (31-33)",
    licence=Licence.FREE,
    licence_note="US Government work (National Center for PTSD) → public domain (§4.2, CamCOPS pcl5.rst) ✅",
    missing=NO_PRORATION,
    source="§4.1 (awell-score README citing NCPTSD; CamCOPS pcl5.rst) ✅; full wording not in the reference",
    subscales=(
        ("B", ("1", "2", "3", "4", "5")),
        ("C", ("6", "7")),
        ("D", ("8", "9", "10", "11", "12", "13", "14")),
        ("E", ("15", "16", "17", "18", "19", "20")),
    ),
    cluster_rule=(("B", 1), ("C", 1), ("D", 2), ("E", 2)),
    cluster_rule_key="pcl5.item_endorsed_min",
    screen_key="pcl5.provisional_ptsd_min_total",
    screen_labels=("below provisional PTSD cut-off", "provisional PTSD"),
    cutoff_keys=(
        "pcl5.provisional_ptsd_min_total",
        "pcl5.item_endorsed_min",
        "pcl5.reliable_change_min",
        "pcl5.meaningful_change_min",
    ),
)

# --- HAM-D17 ------------------------------------------------------------------------------------
# 9 items scored 0-4 and 8 scored 0-2 (§4.1 ✅ count; which items ⚠: standard HDRS layout, items 4-6,
# 12-14, 16, 17 are 0-2).
_HAMD_ITEMS = (
    ("Depressed mood", 4),
    ("Feelings of guilt", 4),
    ("Suicide", 4),
    ("Insomnia: early", 2),
    ("Insomnia: middle", 2),
    ("Insomnia: late", 2),
    ("Work and activities", 4),
    ("Retardation", 4),
    ("Agitation", 4),
    ("Anxiety: psychic", 4),
    ("Anxiety: somatic", 4),
    ("Somatic symptoms: gastrointestinal", 2),
    ("General somatic symptoms", 2),
    ("Genital symptoms", 2),
    ("Hypochondriasis", 4),
    ("Loss of weight", 2),
    ("Insight", 2),
)
HAMD17 = Instrument(
    id="hamd17",
    version="1.0.0",
    name="HAM-D17 (HRSD17)",
    construct="Depression severity (clinician interview)",
    rater=Rater.CLINICIAN,
    recall=RecallPeriod(7, "days", "Past week", source="§4.1: past week (⚠ convention)"),
    items=tuple(
        Item(str(n), label, _scale(0, top), safety=(n == 3)) for n, (label, top) in enumerate(_HAMD_ITEMS, 1)
    ),
    scoring=ScoringRule.SUM,
    bands=(
        Band(0, 7, "none"),
        Band(8, 13, "mild"),
        Band(14, 19, "moderate"),
        Band(20, 25, "severe"),
        Band(26, 52, "very severe"),
    ),
    bands_source="§4.1 ✅ S26",
    licence=Licence.FREE,
    licence_note="Public domain (NINDS CDE statement quoted by CamCOPS hamd.rst) ✅ S24",
    missing=NO_PRORATION,
    source="§4.1, §4.2; item 0-4/0-2 split ⚠ (standard HDRS layout); anchors not in the reference",
    cutoff_keys=("outcomes:response.min_reduction_pct", "outcomes:remission.hamd17"),
    alert_codes=("hamd_item3",),
)

# --- MADRS (licensed: short labels only) --------------------------------------------------------
_MADRS_LABELS = (
    "Apparent sadness",
    "Reported sadness",
    "Inner tension",
    "Reduced sleep",
    "Reduced appetite",
    "Concentration difficulties",
    "Lassitude",
    "Inability to feel",
    "Pessimistic thoughts",
    "Suicidal thoughts",
)
MADRS = Instrument(
    id="madrs",
    version="1.0.0",
    name="MADRS",
    construct="Depression severity (clinician interview)",
    rater=Rater.CLINICIAN,
    recall=RecallPeriod(7, "days", "Past week", source="§4.1: past ~1 week (⚠ by convention)"),
    items=tuple(
        Item(str(n), label, _scale(0, 6), safety=(n == 10)) for n, label in enumerate(_MADRS_LABELS, 1)
    ),
    scoring=ScoringRule.SUM,
    bands=(
        Band(0, 6, "normal/absent"),
        Band(7, 19, "mild"),
        Band(20, 34, "moderate"),
        Band(35, 60, "severe"),
    ),
    bands_source="§4.1 (Snaith) ◐",
    licence=Licence.LICENSED,
    licence_note="Copyright Royal College of Psychiatrists; CamCOPS refused permission (2013) — licence before "
    "embedding anchor text (§4.2, §4.6) ✅ S24",
    licence_key="madrs",
    missing=NO_PRORATION,
    source="§4.1, §4.6 (items ◐); no LOINC codes confirmed (§7.2)",
    cutoff_keys=("outcomes:response.min_reduction_pct", "outcomes:remission.madrs"),
    alert_codes=("madrs_item10",),
)

# --- CADSS-6 (licence ⚠: short labels only) -----------------------------------------------------
CADSS6 = Instrument(
    id="cadss6",
    version="1.0.0",
    name="CADSS-6",
    construct="Dissociation during dosing sessions (brief)",
    rater=Rater.CLINICIAN,
    recall=RecallPeriod(None, "current", "Current state"),
    items=tuple(Item(str(n), f"CADSS item {n}", _scale(0, 4)) for n in (1, 2, 6, 7, 15, 22)),
    scoring=ScoringRule.SUM,
    bands=(),
    bands_source="§4.1: no bands; range 0-24 ⚠ (item scale 0-4 ⚠)",
    licence=Licence.LICENSED,
    licence_note="Author-held (Bremner); permission status ⚠ (§4.2) — treated as licensed",
    licence_key="cadss",
    missing=NO_PRORATION,
    source="§4.1, §4.8: CADSS items 1, 2, 6, 7, 15, 22 (Rodrigues et al. 2021) ✅",
)

# --- MOAA/S -------------------------------------------------------------------------------------
MOAAS_LEVELS = (
    (5, "responds readily to name spoken in normal tone"),
    (4, "lethargic response to name in normal tone"),
    (3, "responds only after name called loudly and/or repeatedly"),
    (2, "responds only after mild prodding or shaking"),
    (1, "responds only after painful trapezius squeeze"),
    (0, "no response after painful trapezius squeeze"),
)
MOAAS = Instrument(
    id="moaas",
    version="1.0.0",
    name="MOAA/S",
    construct="Sedation depth",
    rater=Rater.CLINICIAN,
    recall=RecallPeriod(None, "current", "Current state (lowest level achieved)"),
    items=(
        Item(
            "1",
            "Responsiveness",
            tuple(AnswerOption(v, label) for v, label in sorted(MOAAS_LEVELS)),
            text="Lowest level achieved",
        ),
    ),
    scoring=ScoringRule.SINGLE_RATING,
    bands=tuple(Band(v, v, f"{v}: {label}") for v, label in MOAAS_LEVELS),
    bands_source="§4.8 ✅ (Spravato label S4 §5.1: 0 = loss of consciousness)",
    licence=Licence.FREE,
    licence_note="Public (published scale) ⚠ (§4.2)",
    missing=NO_PRORATION,
    source="§4.1, §4.8",
    alert_codes=("moaas_loss_of_consciousness",),
)

# --- C-SSRS screener ----------------------------------------------------------------------------
CSSRS_SCREENER = Instrument(
    id="cssrs_screener",
    version="1.0.0",
    name="C-SSRS Screener",
    construct="Suicidal ideation and behaviour triage",
    rater=Rater.CLINICIAN,
    recall=RecallPeriod(
        1, "months", "Past month (ideation); lifetime + past 3 months (behaviour)", source="§4.7"
    ),
    items=(
        Item("1", "Wish to be dead", YES_NO, safety=True),
        Item("2", "Non-specific active suicidal thoughts", YES_NO, safety=True),
        Item("3", "Thoughts with method (if 2 yes)", YES_NO, safety=True),
        Item("4", "Intent without specific plan (if 2 yes)", YES_NO, safety=True),
        Item("5", "Intent with plan (if 2 yes)", YES_NO, safety=True),
        Item("6", "Suicidal behaviour, lifetime", YES_NO, safety=True),
        Item("6b", "Behaviour within past 3 months (if 6 yes)", YES_NO, safety=True),
    ),
    scoring=ScoringRule.TRIAGE,
    bands=(),
    bands_source="§4.7 ◐: Q1-2 yes only -> low; Q3 -> moderate; Q4 or Q5 -> high; Q6 within 3 months -> high, "
    "Q6 lifetime only -> moderate (calculators in public code; official triage colours ⚠)",
    licence=Licence.FREE,
    licence_note="Paper use by clinicians generally free (⚠); eC-SSRS exclusively licensed to Clario (§4.2, S27)",
    self_report_licence_key="cssrs_electronic",
    missing=MissingRule(
        "Never prorated: a blank applicable item is flagged; triage uses only what was answered.",
        "§4.7",
        confirmed=False,
    ),
    source="§4.1, §4.7 (content paraphrased); no LOINC (§7.2)",
    alert_codes=("cssrs_low", "cssrs_moderate", "cssrs_high"),
)

# --- bladder screens ----------------------------------------------------------------------------
BLADDER_SX = Instrument(
    id="bladder_sx",
    version="1.0.0",
    name="Bladder symptom questions (ketamine uropathy screen)",
    construct="Urinary tract symptoms in repeated ketamine use",
    rater=Rater.SELF,
    recall=RecallPeriod(None, "since last visit", "Since the last visit"),
    items=(
        Item("1", "Urinary frequency", YES_NO),
        Item("2", "Urgency", YES_NO),
        Item("3", "Pain on urination (dysuria)", YES_NO),
        Item("4", "Suprapubic (bladder) pain", YES_NO),
        Item("5", "Blood in urine (haematuria)", YES_NO),
    ),
    scoring=ScoringRule.SUM,
    bands=(Band(0, 0, "no symptoms"), Band(1, 5, "symptoms reported")),
    bands_source="§5.1 suggested defaults (⚠ design proposal, not guideline-derived)",
    licence=Licence.FREE,
    licence_note="Kairos question list from §5.1 (no published instrument)",
    missing=NO_PRORATION,
    source="§5.1: questions at baseline and every maintenance visit; no ketamine-specific validated screen (§4.9 ⚠)",
    alert_codes=("bladder_pain_or_haematuria", "bladder_any_symptom"),
)

ICSI = Instrument(
    id="icsi",
    version="1.0.0",
    name="O'Leary-Sant Interstitial Cystitis Symptom Index (ICSI)",
    construct="Bladder pain / interstitial cystitis symptoms",
    rater=Rater.SELF,
    recall=RecallPeriod(1, "months", "Past month", source="§4.1: past month (recall ⚠)"),
    items=(
        Item("1", "Urgency", _scale(0, 5)),
        Item("2", "Frequency (<2 h)", _scale(0, 5)),
        Item("3", "Nocturia", _scale(0, 5)),
        Item("4", "Bladder pain or burning", _scale(0, 5)),
    ),
    scoring=ScoringRule.SUM,
    bands=(),
    bands_source="§4.1: no universal bands",
    licence=Licence.LICENSED,
    licence_note="Licence status ⚠ (§4.2) — treated as licensed: short labels only",
    licence_key="icsi",
    missing=NO_PRORATION,
    source="§4.1 (4 items, 0-20 ✅ maxima; per-item option sets not in the reference, 0-5 assumed ⚠)",
)

# --- misuse screens -----------------------------------------------------------------------------
_DAST_LABELS = (
    "Used drugs other than for medical reasons",
    "Used more than one drug at a time",
    "Always able to stop using drugs when wanted (reverse-scored)",
    "Blackouts or flashbacks",
    "Felt bad or guilty about drug use",
    "Spouse/parents complained about drug use",
    "Neglected family because of drug use",
    "Engaged in illegal activities to obtain drugs",
    "Withdrawal symptoms when stopped",
    "Medical problems from drug use",
)
DAST10 = Instrument(
    id="dast10",
    version="1.0.0",
    name="DAST-10",
    construct="Drug use problems (misuse screen)",
    rater=Rater.SELF,
    recall=RecallPeriod(12, "months", "Past 12 months", source="general knowledge (Skinner 1982) ⚠"),
    items=tuple(
        Item(
            str(n),
            label,
            (AnswerOption(0, "No", score=1), AnswerOption(1, "Yes", score=0)) if n == 3 else YES_NO,
        )
        for n, label in enumerate(_DAST_LABELS, 1)
    ),
    scoring=ScoringRule.SUM,
    bands=(
        Band(0, 0, "no problems reported"),
        Band(1, 2, "low"),
        Band(3, 5, "moderate"),
        Band(6, 8, "substantial"),
        Band(9, 10, "severe"),
    ),
    bands_source="not in clinical.md (§4.9/§5.4 name DAST-10 only); Skinner 1982 bands from general knowledge ⚠",
    licence=Licence.LICENSED,
    licence_note="Copyright (Skinner/CAMH); licence status not in the reference ⚠ — short labels only",
    licence_key="dast10",
    missing=NO_PRORATION,
    source="§4.9, §5.4 (DAST-10 named; CamCOPS implements DAST ✅); item 3 reverse-scored (general knowledge ⚠)",
)

AUDIT_C = Instrument(
    id="audit_c",
    version="1.0.0",
    name="AUDIT-C",
    construct="Hazardous alcohol use (screen)",
    rater=Rater.SELF,
    recall=RecallPeriod(12, "months", "Past year", source="general knowledge ⚠"),
    items=(
        Item("1", "How often a drink containing alcohol", _scale(0, 4)),
        Item("2", "Drinks on a typical drinking day", _scale(0, 4)),
        Item("3", "How often six or more drinks on one occasion", _scale(0, 4)),
    ),
    scoring=ScoringRule.SUM,
    bands=(),
    bands_source="positive screen at sex-specific cut-offs (>=4 men, >=3 women; other/unknown sex: the lower); "
    "configurable (⚠ not in the reference)",
    licence=Licence.FREE,
    licence_note="WHO AUDIT (free to use) — general knowledge ⚠; labels only",
    missing=NO_PRORATION,
    source="§5.4 names AUDIT-C (⚠ design proposal); 3 items 0-4 (general knowledge ⚠)",
    cutoff_keys=("audit_c.positive_screen_min_total_men", "audit_c.positive_screen_min_total_women"),
    screen_by_sex=(
        ("male", "audit_c.positive_screen_min_total_men"),
        ("female", "audit_c.positive_screen_min_total_women"),
    ),
)

INSTRUMENTS: tuple[Instrument, ...] = (
    PHQ9,
    PHQ9_24H,
    PHQ2,
    GAD7,
    GAD2,
    QIDS_SR16,
    PCL5,
    HAMD17,
    MADRS,
    CADSS6,
    MOAAS,
    CSSRS_SCREENER,
    BLADDER_SX,
    ICSI,
    DAST10,
    AUDIT_C,
)
