package worklets

import "os"

func osReadFile(p string) ([]byte, error)  { return os.ReadFile(p) }
func osWriteFile(p string, b []byte) error { return os.WriteFile(p, b, 0o600) }
