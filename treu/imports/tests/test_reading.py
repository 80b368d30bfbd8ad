from __future__ import annotations

import pytest

from treu.imports.formats import choose
from treu.imports.reading import FileRefused, detect_delimiter, inspect, stream_rows

HEADER = "order_id;order_date;item;quantity;unit_price;total\r\n"
ROW = "X-1;01.03.2024 14:22;Röstkaffee Größe „L“;1;12,50;12,50\r\n"


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252")],
)
def test_it_detects_the_encoding_and_reads_umlauts(write_file, encoding, expected):
    path = write_file(HEADER + ROW, encoding=encoding)
    layout = inspect(path)
    assert layout.encoding == expected
    assert layout.header[0] == "order_id"  # the BOM is not part of the first column
    rows = list(stream_rows(path, layout, []))
    assert rows[0].cells[2] == "Röstkaffee Größe „L“"
    assert rows[0].line == 2


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_it_detects_the_separator(write_file, delimiter):
    path = write_file(f"order_id{delimiter}item{delimiter}total\nA{delimiter}B{delimiter}1\n")
    assert inspect(path).delimiter == delimiter


def test_separators_inside_quotes_do_not_count():
    assert detect_delimiter('"a;b;c";"d;e",f,g,h;x') == ","
    assert detect_delimiter('"Name, Vorname";E-Mail;Betrag') == ";"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "leer"),
        (b"   \n\n", "leer"),
        (b"order_id,item\n", "keine Datenzeilen"),
        (b"order_id,item\n,\n\n", "keine Datenzeilen"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Binärdaten"),
        ("order_id,item\nA,B\n".encode("utf-16"), "UTF-16"),
        (b"order_id,item\nA,\x81\x8d\n", "weder UTF-8 noch Windows-1252"),
    ],
)
def test_it_refuses_files_it_cannot_read_with_a_reason(write_file, content, reason):
    path = write_file(content)
    with pytest.raises(FileRefused) as refused:
        inspect(path)
    assert reason in refused.value.reason


def test_a_bom_file_with_broken_bytes_is_refused(write_file):
    path = write_file(b"\xef\xbb\xbforder_id,item\nA,\xff\n")
    with pytest.raises(FileRefused, match="ungültige Zeichen"):
        inspect(path)


def test_rows_with_the_wrong_number_of_columns_are_marked(write_file):
    path = write_file("a,b,c\n1,2,3\n1;2;3\n\n4,5,6\n")
    rows = list(stream_rows(path, inspect(path), []))
    assert [r.line for r in rows] == [2, 3, 5]  # blank line 4 skipped, numbering kept
    assert rows[1].problem and "1" in rows[1].problem and not rows[0].problem


def test_it_names_the_expected_columns_for_an_unknown_format():
    with pytest.raises(FileRefused) as refused:
        choose(["Kundennr", "Betrag"])
    assert "Kundennr" in refused.value.reason
    assert "order_id" in refused.value.reason and "Lineitem name" in refused.value.reason


def test_an_explicit_format_names_its_missing_columns():
    with pytest.raises(FileRefused) as refused:
        choose(["order_id", "item"], "treu-orders")
    assert "order_date" in refused.value.reason and "unit_price" in refused.value.reason


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["Name", "Email", "Financial Status", "Currency", "Total", "Created at",
          "Lineitem quantity", "Lineitem name", "Lineitem price", "Id"], "shopify-orders"),
        (["order_id", "order_date", "status", "order_total", "item_name", "item_quantity",
          "item_total"], "woocommerce-orders"),
        (["order_id", "order_date", "item", "quantity", "unit_price", "total"], "treu-orders"),
        (["Customer ID", "First Name", "Last Name", "Email", "Total Spent", "Total Orders"],
         "shopify-customers"),
        (["email", "first_name", "last_name"], "treu-customers"),
        ([" EMAIL ", "First_Name", "last_name"], "treu-customers"),
    ],
)  # fmt: skip
def test_it_recognises_each_format_by_its_header(header, expected):
    assert choose(header).key == expected
