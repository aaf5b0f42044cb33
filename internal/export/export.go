// Package export writes the auditors' tables — the status table, a unit's
// history, the revocation timeline — as CSV or XLSX, from the views.
//
// Offices open these files in Excel, so both formats are written for it:
// CSV is UTF-8 with a byte-order mark (without it Excel reads Vietnamese
// diacritics as mojibake) and CRLF line ends; XLSX is written with
// github.com/xuri/excelize/v2 as shared strings, which keep any Unicode
// text. Every cell is text or a number exactly as the views hold it, so a
// file read back gives the same values.
package export

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Formats.
const (
	CSV  = "csv"
	XLSX = "xlsx"
)

// ErrFormat is returned for a format other than CSV and XLSX.
var ErrFormat = errors.New("unknown export format (csv or xlsx)")

// ContentType is the media type of a format.
func ContentType(format string) string {
	if format == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// BOM starts every CSV file: Excel needs it to read UTF-8.
const BOM = "\ufeff"

// Table is a sheet: a name, a header row and rows fed one at a time.
type Table struct {
	Sheet   string
	Columns []string
	// Rows calls emit with each row, in order.
	Rows func(ctx context.Context, emit func(row []any) error) error
}

// Write writes t in format to w.
func Write(ctx context.Context, w io.Writer, format string, t *Table) error {
	switch format {
	case CSV:
		return writeCSV(ctx, w, t)
	case XLSX:
		return writeXLSX(ctx, w, t)
	}
	return fmt.Errorf("%w: %q", ErrFormat, format)
}

func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func writeCSV(ctx context.Context, w io.Writer, t *Table) error {
	if _, err := io.WriteString(w, BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(t.Columns); err != nil {
		return err
	}
	rec := make([]string, len(t.Columns))
	err := t.Rows(ctx, func(row []any) error {
		for i := range rec {
			rec[i] = ""
			if i < len(row) {
				rec[i] = cellText(row[i])
			}
		}
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func writeXLSX(ctx context.Context, w io.Writer, t *Table) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := t.Sheet
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	header := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = excelize.Cell{StyleID: bold, Value: c}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{}); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	n := 1
	err = t.Rows(ctx, func(row []any) error {
		n++
		cells := make([]any, len(t.Columns))
		for i := range cells {
			if i < len(row) {
				switch x := row[i].(type) {
				case int, uint64, float64, bool:
					cells[i] = x
				default:
					cells[i] = cellText(x)
				}
			}
		}
		cell, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		return sw.SetRow(cell, cells)
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}

// ReadCSV reads a CSV file written by Write back into rows (header first),
// dropping the byte-order mark.
func ReadCSV(r io.Reader) ([][]string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), BOM))).ReadAll()
}
