"""Writes the corpus's own small forms (own/*.xlsx), each reproducing a
pattern met in the real forms listed in corpus.tsv. Run with Debian's
python3 (python3-openpyxl): python3 make_own.py"""
import os
import openpyxl

HERE = os.path.dirname(os.path.abspath(__file__))

FORMS = {
    # fmtm_*, osmfw_solidwaste, pizza, constraint_example: expressions typed
    # in a spreadsheet program that turned the quotes typographic, and
    # labels with runs of spaces.
    "smart_quotes": {
        "survey": [
            ["type", "name", "label", "relevant", "constraint", "calculation"],
            ["select_one yes_no", "consent", "Do you agree?  (say ‘yes’)", "", "", ""],
            ["text", "why", "Why not?", "${consent} = ‘no’", "", ""],
            ["integer", "age", "Age", "${consent}=’yes’", ". >= 0 and . < 120 or . = “-99”", ""],
            ["calculate", "greeting", "", "", "", "concat(“Age: ”, ${age})"],
        ],
        "choices": [["list_name", "name", "label"], ["yes_no", "yes", "Yes"], ["yes_no", "no", "No"]],
    },
    # liberia_*: random() and pulldata() in calculations; uuid() and once()
    # as pyxform's documentation writes them.
    "volatile_functions": {
        "survey": [
            ["type", "name", "label", "calculation"],
            ["text", "village", "Village", ""],
            ["calculate", "draw", "", "once(random())"],
            ["calculate", "pick", "", "if(${draw} < 0.5, 1, 2)"],
            ["calculate", "key", "", "once(uuid())"],
            ["calculate", "pop", "", "pulldata('villages', 'population', 'name', ${village})"],
            ["note", "show", "Drawn ${pick}, population ${pop}", ""],
        ],
        "choices": [["list_name", "name", "label"]],
    },
    # ceat_*: the same name twice under one parent, which pyxform refuses.
    "same_name_siblings": {
        "survey": [
            ["type", "name", "label"],
            ["begin_group", "habits", "Habits"],
            ["integer", "wash1", "Times today"],
            ["integer", "wash1", "Times yesterday"],
            ["end_group", "", ""],
        ],
    },
    # fmtm_wildfires: a trigger naming a question the form does not have.
    "trigger_unknown": {
        "survey": [
            ["type", "name", "label", "calculation", "trigger"],
            ["text", "category", "Category", "", ""],
            ["calculate", "stamp", "", "now()", "${existing}"],
        ],
    },
    # liberia_*, unhcr_demo: a choice name twice in one list.
    "choice_duplicate": {
        "survey": [["type", "name", "label"], ["select_one district", "district", "District"]],
        "choices": [["list_name", "name", "label"], ["district", "4", "Bomi"], ["district", "4", "Bong"]],
    },
    # osmfw_buildings, osmfw_health: a select whose list is not in the
    # choices sheet.
    "list_missing": {
        "survey": [["type", "name", "label"], ["select_one yes_no", "ok", "OK?"]],
        "choices": [["list_name", "name", "label"], ["colours", "red", "Red"]],
    },
    # odk_offline_pyxform_error: a misspelt type.
    "unknown_type": {
        "survey": [["type", "name", "label"], ["textX", "name", "Name"]],
    },
    # a choice_filter naming a label column, which pyxform refuses.
    "choice_filter_label": {
        "survey": [
            ["type", "name", "label::English (en)", "choice_filter"],
            ["select_one towns", "town", "Town", "label::English != ''"],
        ],
        "choices": [["list_name", "name", "label::English (en)"], ["towns", "a", "Abel"], ["towns", "b", ""]],
    },
    # a hint that names a question the form does not have.
    "hint_unknown_ref": {
        "survey": [
            ["type", "name", "label", "hint"],
            ["integer", "members", "Members", ""],
            ["integer", "children", "Children", "At most ${member}"],
        ],
    },
    # fmtm_slum_assessment, unhcr_kobo_examples: the same name in
    # different groups and repeats, unique among siblings: pyxform accepts.
    "same_name_groups": {
        "survey": [
            ["type", "name", "label", "relevant"],
            ["begin_group", "head", "Household head", ""],
            ["integer", "age", "Age of the head", ""],
            ["note", "info", "About the head", ""],
            ["end_group", "", "", ""],
            ["begin_group", "spouse", "Spouse", ""],
            ["integer", "age", "Age of the spouse", ""],
            ["note", "info", "About the spouse", ""],
            ["end_group", "", "", ""],
            ["integer", "members", "Other members", ""],
            ["begin_repeat", "member", "Member", ""],
            ["integer", "age", "Age", ""],
            ["text", "school", "School", "${members} > 0"],
            ["end_repeat", "", "", ""],
        ],
    },
    # a reference to a name used twice, which pyxform refuses.
    "same_name_reference": {
        "survey": [
            ["type", "name", "label", "relevant"],
            ["begin_group", "head", "Household head", ""],
            ["integer", "age", "Age of the head", ""],
            ["end_group", "", "", ""],
            ["begin_group", "spouse", "Spouse", ""],
            ["integer", "age", "Age of the spouse", ""],
            ["end_group", "", "", ""],
            ["text", "job", "Occupation", "${age} >= 15"],
        ],
    },
    # fmtm_building_natural_risks: a look-up in a list; relative paths and
    # indexed-repeat() as pyxform's documentation writes them.
    "lookups": {
        "survey": [
            ["type", "name", "label", "calculation", "constraint"],
            ["select_one district", "d", "District", "", ""],
            ["calculate", "pop", "", "instance('district')/root/item[name=${d}]/population", ""],
            ["calculate", "big", "", "count(instance('district')/root/item[population > 1000])", ""],
            ["begin_repeat", "r", "Entry", "", ""],
            ["integer", "a", "A", "", ""],
            ["integer", "b", "B", "", ". <= ../a"],
            ["end_repeat", "", "", "", ""],
            ["calculate", "first_a", "", "indexed-repeat(${a}, ${r}, 1)", ""],
        ],
        "choices": [["list_name", "name", "label", "population"], ["district", "x", "X", "500"], ["district", "y", "Y", "2000"]],
    },
    # range questions of whole and of decimal numbers.
    "ranges": {
        "survey": [
            ["type", "name", "label", "parameters"],
            ["range", "score", "Score", "start=0 end=10 step=2"],
            ["range", "weight", "Weight", "start=1.5 end=3 step=0.5"],
            ["range", "rating", "Rating", ""],
        ],
    },
    # a range whose step is wider than the range.
    "range_bad_step": {
        "survey": [["type", "name", "label", "parameters"], ["range", "score", "Score", "start=0 end=4 step=5"]],
    },
}


# liberia_*, fmtm_*: choices and values read from CSV/XML media files the
# server sends with the form: select_one_from_file filtered on a column of
# the file, select_multiple_from_file from XML, pulldata(), csv-external.
FORMS["media_files"] = {
    "survey": [
        ["type", "name", "label", "choice_filter", "calculation"],
        ["text", "region", "Region", "", ""],
        ["select_one_from_file towns.csv", "town", "Town", "region=${region}", ""],
        ["select_multiple_from_file markets.xml", "markets", "Markets", "", ""],
        ["calculate", "pop", "", "", "pulldata('towns', 'population', 'name', ${town})"],
        ["csv-external", "prices", "", "", ""],
        ["note", "show", "Population ${pop}", "", ""],
    ],
}


def main(only=None):
    for name, sheets in FORMS.items():
        if only and name not in only:
            continue
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for sheet, rows in sheets.items():
            ws = wb.create_sheet(sheet)
            for row in rows:
                ws.append([v if v != "" else None for v in row])
        wb.save(os.path.join(HERE, "own", name + ".xlsx"))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
