package importer

import (
	"strings"
	"unicode"
)

// vietnamese maps each accented Vietnamese letter to its base letter.
var vietnamese = func() map[rune]rune {
	m := map[rune]rune{'đ': 'd', 'Đ': 'd'}
	for base, set := range map[rune]string{
		'a': "àáảãạăằắẳẵặâầấẩẫậ",
		'e': "èéẻẽẹêềếểễệ",
		'i': "ìíỉĩị",
		'o': "òóỏõọôồốổỗộơờớởỡợ",
		'u': "ùúủũụưừứửữự",
		'y': "ỳýỷỹỵ",
	} {
		for _, r := range set {
			m[r] = base
			m[unicode.ToUpper(r)] = base
		}
	}
	return m
}()

// fold reduces a header or a value to a key: lower case, Vietnamese
// diacritics removed, every run of other characters an underscore.
// "Mã đơn vị" → "ma_don_vi", "Cơ bản đạt" → "co_ban_dat".
func fold(s string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.TrimSpace(s) {
		if unicode.Is(unicode.Mn, r) {
			continue // combining marks of decomposed (NFD) text
		}
		if base, ok := vietnamese[r]; ok {
			r = base
		}
		r = unicode.ToLower(r)
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if sep && b.Len() > 0 {
				b.WriteByte('_')
			}
			sep = false
			b.WriteRune(r)
			continue
		}
		sep = true
	}
	return b.String()
}
