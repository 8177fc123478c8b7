"""README's "What a cell is" table, read as promises: (cloud, phrase) pairs, one per comma- or semicolon-separated
phrase of each cloud's column."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## What a cell is"
# Words that only introduce a list ("EKS: private endpoint, ...").
LEAD_INS = ("EKS", "GKE")


def split_phrases(cell: str) -> list[str]:
    """Split on `,` and `;`, and on `:` or `.` followed by a space, outside parentheses and backticks."""
    phrases: list[str] = []
    current: list[str] = []
    depth, code = 0, False
    for index, char in enumerate(cell):
        if char == "`":
            code = not code
        elif not code and char == "(":
            depth += 1
        elif not code and char == ")":
            depth -= 1
        ends_sentence = char in ":." and cell[index + 1:index + 2] == " "
        if (char in ",;" or ends_sentence) and depth == 0 and not code:
            phrases.append("".join(current))
            current = []
        else:
            current.append(char)
    phrases.append("".join(current))
    return [phrase for phrase in (p.strip() for p in phrases) if phrase and phrase not in LEAD_INS]


def promises(text: str | None = None) -> list[tuple[str, str, str]]:
    """(part, cloud, phrase) for every phrase of the table, in README order."""
    lines = (README.read_text() if text is None else text).splitlines()
    start = lines.index(HEADING)
    rows = []
    for line in lines[start + 1:]:
        if rows and not line.startswith("|"):
            break
        if line.startswith("|"):
            rows.append(line)
    found = []
    for row in rows[2:]:  # header and separator
        part, aws, gcp = (cell.strip() for cell in row.strip().strip("|").split("|"))
        for cloud, cell in (("aws", aws), ("gcp", gcp)):
            found.extend((part, cloud, phrase) for phrase in split_phrases(cell))
    return found
