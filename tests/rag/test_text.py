"""Words and figures as the checks compare them (rag/text.py)."""

from rag.text import measure, same_measure


def test_a_figure_s_measure_is_its_currency_its_percent_or_the_word_after_it():
    assert measure("$4.17") == measure("£12m") == measure("$2.04 billion") == "money"
    assert measure("8.2%") == measure("10.1 per cent") == measure("3.75% to 4%") == "percent"
    assert measure("15,000 acres") == measure("18,532 acres") != measure("62 consecutive days")
    assert measure("At least six people") == measure("at least 125 people")
    assert measure("22,000") is None and measure("rose to 19") is None and measure("Liz Truss") is None


def test_figures_of_another_measure_do_not_replace_each_other():
    assert same_measure("15,000 acres", "18,532 acres") and same_measure("22,000", "22,774 cases")
    assert not same_measure("$4.17", "62 consecutive days") and not same_measure("8.5%", "$3.96")
