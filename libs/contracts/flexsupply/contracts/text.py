"""Text every service accepts from people: printable only."""

# Control characters (a NUL above all, which PostgreSQL refuses to store) have no place in names, notes or numbers;
# tabs and line breaks do (a note may have paragraphs).
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
