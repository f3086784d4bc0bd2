package registry

import (
	"encoding/json"
	"net/http"
)

// OCI distribution error codes the gateway answers with.
const (
	codeNameUnknown             = "NAME_UNKNOWN"
	codeNameInvalid             = "NAME_INVALID"
	codeManifestUnknown         = "MANIFEST_UNKNOWN"
	codeBlobUnknown             = "BLOB_UNKNOWN"
	codeDigestInvalid           = "DIGEST_INVALID"
	codeUnsupported             = "UNSUPPORTED"
	codeRangeInvalid            = "RANGE_INVALID"
	codePaginationNumberInvalid = "PAGINATION_NUMBER_INVALID"
)

type regError struct {
	status  int
	code    string
	message string
}

func (e *regError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, message string) *regError {
	return &regError{status: status, code: code, message: message}
}

// writeError answers with the OCI error body, never an empty 404. HEAD
// responses carry the status alone, as HTTP requires.
func writeError(w http.ResponseWriter, r *http.Request, e *regError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	if r.Method == http.MethodHead {
		return
	}
	type item struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	json.NewEncoder(w).Encode(struct {
		Errors []item `json:"errors"`
	}{[]item{{e.code, e.message}}})
}
