package model

// IsCaseNo reports whether s has the shape of a case number (案件编号):
// YYYYMMDD-NNNN, the sequence four digits or more. A ticket route that
// takes an id takes a case number too; this tells the two apart without a
// lookup (ids are 24 hexadecimal digits, never with a dash).
func IsCaseNo(s string) bool {
	if len(s) < 13 || len(s) > 20 || s[8] != '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i != 8 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}
