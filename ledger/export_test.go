package ledger

// SetBeforeSend makes l call f with the units of each request after
// checking it and before sending it (tests only).
func SetBeforeSend(l *Ledger, f func(units []string)) { l.beforeSend = f }
