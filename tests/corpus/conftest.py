def pytest_terminal_summary(terminalreporter):
    """The corpus size, for the record (docs/NOTES.md quotes it), whenever the corpus ran."""
    if not any("tests/corpus/" in report.nodeid for report in terminalreporter.stats.get("passed", [])):
        return
    from collections import Counter

    from tests.corpus.generate import all_cases

    cases = all_cases()
    categories = Counter(case.category for case in cases)
    terminalreporter.write_line(
        f"bad-input corpus: {len(cases)} cases in {len(categories)} categories: "
        + ", ".join(f"{name} {count}" for name, count in sorted(categories.items()))
    )
