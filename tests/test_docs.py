"""The documentation stays true to the code."""

from pathlib import Path

from civsim import metrics
from civsim.params import markdown_table
from civsim.scenario import preset_names

ROOT = Path(__file__).resolve().parent.parent


def test_odd_parameter_table_matches_the_schema():
    assert markdown_table() in (ROOT / "docs" / "ODD.md").read_text(), (
        "docs/ODD.md's parameter table is stale: paste `civsim params --markdown` into it"
    )


def test_outputs_doc_names_every_column():
    text = (ROOT / "docs" / "outputs.md").read_text()
    for column in ["step"] + metrics.series_columns(("jobs",), 2, 1):
        name = column.replace("_jobs", "_<domain>").replace("_hood_0", "_hood_<m>")
        for g in ("majority", "marginalised"):
            if name.startswith(("outcome_index_", "engagement_")):
                name = name.replace(f"_{g}", "_<group>")
        assert f"`{name}`" in text, f"docs/outputs.md does not document column {name!r}"


def test_readme_lists_every_preset():
    text = (ROOT / "README.md").read_text()
    for name in preset_names():
        assert f"| {name} |" in text, f"README's preset table lacks {name!r}"
