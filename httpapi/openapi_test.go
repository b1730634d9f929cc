package httpapi_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pquerna/otp/totp"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/clamd/clamdtest"
	"github.com/atrium-dev/atrium/httpapi"
	"github.com/atrium-dev/atrium/internal/testserver"
	"github.com/atrium-dev/atrium/store"
)

// The tests in this file keep the OpenAPI document (openapi.json) honest:
// it must be valid OpenAPI 3.1, describe every route of the server and
// nothing else, and every answer the real server gives must have a
// documented status and match its schema.

// oapiDocURL names the document for the JSON Schema compiler; nothing is
// fetched from it.
const oapiDocURL = "https://atrium.invalid/openapi.json"

// oapiSpec is the document, parsed twice: as OpenAPI 3.1 (operations,
// parameters, statuses, headers, media types, security), and as one JSON
// Schema 2020-12 resource whose schemas validate every body and frame.
type oapiSpec struct {
	doc      *openapi3.T
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema // compiled, by JSON pointer
}

// oapiLoad parses the embedded document and validates it.
func oapiLoad(t testing.TB) *oapiSpec {
	t.Helper()
	spec, err := oapiParse(httpapi.OpenAPIDocument)
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return spec
}

// oapiParse loads a document and validates it: the OpenAPI 3.1 structure,
// and every schema of components/schemas against the JSON Schema 2020-12
// meta-schema (compiling them also resolves every $ref they hold).
func oapiParse(data []byte) (*oapiSpec, error) {
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("openapi is %q, want 3.1.0", doc.OpenAPI)
	}
	ctx := openapi3.WithValidationOptions(context.Background(),
		openapi3.EnableSchemaFormatValidation(), openapi3.EnableSchemaPatternValidation(),
		openapi3.EnableSchemaDefaultsValidation(), openapi3.EnableExamplesValidation(), openapi3.EnableMultiError())
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("invalid OpenAPI 3.1 document: %w", err)
	}
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(oapiDocURL, raw); err != nil {
		return nil, err
	}
	spec := &oapiSpec{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}}
	for name := range doc.Components.Schemas {
		if _, err := spec.schema("/components/schemas/" + oapiEscape(name)); err != nil {
			return nil, err
		}
	}
	return spec, nil
}

// oapiEscape escapes one JSON pointer token.
func oapiEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// schema compiles the schema at a JSON pointer of the document.
func (sp *oapiSpec) schema(ptr string) (*jsonschema.Schema, error) {
	if s, ok := sp.schemas[ptr]; ok {
		return s, nil
	}
	s, err := sp.compiler.Compile(oapiDocURL + "#" + ptr)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", ptr, err)
	}
	sp.schemas[ptr] = s
	return s, nil
}

// validate checks a body against the schema at a JSON pointer. JSON media
// types are parsed; other bodies are validated as one string.
func (sp *oapiSpec) validate(ptr, mediaType string, body []byte) error {
	s, err := sp.schema(ptr)
	if err != nil {
		return err
	}
	var v any = string(body)
	if mediaType == "application/json" {
		if v, err = jsonschema.UnmarshalJSON(bytes.NewReader(body)); err != nil {
			return fmt.Errorf("the body is not JSON: %w", err)
		}
	}
	return s.Validate(v)
}

// oapiMedia picks the documented media type of a Content-Type, returning its
// key in content.
func oapiMedia(content openapi3.Content, contentType string) (string, error) {
	mt := content.Get(contentType)
	for key, m := range content {
		if m == mt && mt != nil {
			return key, nil
		}
	}
	return "", fmt.Errorf("media type %q is not documented", contentType)
}

// oapiWildcard matches a ServeMux wildcard: {name}, {name...} or {$}.
var oapiWildcard = regexp.MustCompile(`\{([^}]*)\}`)

// oapiTemplate turns a ServeMux path into an OpenAPI path template.
func oapiTemplate(path string) (string, error) {
	var bad error
	out := oapiWildcard.ReplaceAllStringFunc(path, func(w string) string {
		name := strings.TrimSuffix(w[1:len(w)-1], "...")
		if name == "$" || name == "" {
			bad = fmt.Errorf("%s: wildcard %s has no OpenAPI equivalent", path, w)
		}
		return "{" + name + "}"
	})
	return out, bad
}

// route returns the document's operation for a method and path template.
func (sp *oapiSpec) route(method, path string) (*routers.Route, error) {
	item := sp.doc.Paths.Value(path)
	if item == nil {
		return nil, fmt.Errorf("path %s is not documented", path)
	}
	op := item.GetOperation(method)
	if op == nil {
		return nil, fmt.Errorf("%s %s is not documented", method, path)
	}
	return &routers.Route{Spec: sp.doc, Path: path, PathItem: item, Method: method, Operation: op}, nil
}

// oapiOpPointer is the JSON pointer of an operation.
func oapiOpPointer(route *routers.Route) string {
	return "/paths/" + oapiEscape(route.Path) + "/" + strings.ToLower(route.Method)
}

// oapiRefPointer is where a part of an operation really is: the component it
// refers to, or its place in the operation.
func oapiRefPointer(ref, inPlace string) string {
	if ref != "" {
		return strings.TrimPrefix(ref, "#")
	}
	return inPlace
}

// checkResponse validates one answer against the document: its status
// must be documented for the operation, its headers, media type and body
// must match. It returns the response key that matched ("200", "5XX"…).
func (sp *oapiSpec) checkResponse(route *routers.Route, req *http.Request, status int, h http.Header, body []byte) (string, error) {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
		Status:                 status,
		Header:                 h,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return "", err
	}
	key := strconv.Itoa(status)
	resp := route.Operation.Responses.Value(key)
	if resp == nil {
		key = strconv.Itoa(status/100) + "XX"
		resp = route.Operation.Responses.Value(key)
	}
	if resp == nil {
		return "", fmt.Errorf("status %d is not documented", status)
	}
	if len(resp.Value.Content) == 0 {
		if len(body) > 0 {
			return "", fmt.Errorf("status %d is documented without a body, but the answer has one: %.200s", status, body)
		}
		return key, nil
	}
	media, err := oapiMedia(resp.Value.Content, h.Get("Content-Type"))
	if err != nil {
		return "", fmt.Errorf("status %d: %w", status, err)
	}
	ptr := oapiRefPointer(resp.Ref, oapiOpPointer(route)+"/responses/"+oapiEscape(key)) + "/content/" + oapiEscape(media) + "/schema"
	if err := sp.validate(ptr, media, body); err != nil {
		return "", fmt.Errorf("status %d: the body does not match %s: %w", status, ptr, err)
	}
	return key, nil
}

// oapiAuthenticate checks a request carries the credentials a security
// scheme of the document asks for (their validity is the server's job).
func oapiAuthenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	switch in.SecuritySchemeName {
	case "bearerAuth":
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return errors.New("no bearer token")
		}
	case "sessionCookie":
		if c, err := r.Cookie(in.SecurityScheme.Name); err != nil || c.Value == "" {
			return errors.New("no session cookie")
		}
	default:
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	return nil
}

// checkRequest validates a request against the document: parameters,
// credentials, media type and body.
func (sp *oapiSpec) checkRequest(route *routers.Route, req *http.Request, params map[string]string, body []byte) error {
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: oapiAuthenticate, MultiError: true, ExcludeRequestBody: true,
			// Parameters and headers are validated here; ids are UUIDs.
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("uuid",
				openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))}},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return err
	}
	rb := route.Operation.RequestBody
	switch {
	case rb == nil && len(body) > 0:
		return errors.New("the operation takes no body")
	case rb == nil:
		return nil
	case len(body) == 0 && rb.Value.Required:
		return errors.New("the body is required")
	case len(body) == 0:
		return nil
	}
	media, err := oapiMedia(rb.Value.Content, req.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	ptr := oapiRefPointer(rb.Ref, oapiOpPointer(route)+"/requestBody") + "/content/" + oapiEscape(media) + "/schema"
	return sp.validate(ptr, media, body)
}

// framePointer is the pointer of the schema of the event stream's frames,
// which the events operation names in its x-websocket-frame extension.
func (sp *oapiSpec) framePointer() (string, error) {
	route, err := sp.route(http.MethodGet, "/api/v1/events")
	if err != nil {
		return "", err
	}
	ext, _ := route.Operation.Extensions["x-websocket-frame"].(map[string]any)
	ref, _ := ext["$ref"].(string)
	if !strings.HasPrefix(ref, "#/components/schemas/") {
		return "", fmt.Errorf("x-websocket-frame of GET /api/v1/events names no schema: %v", ext)
	}
	return strings.TrimPrefix(ref, "#"), nil
}

// checkFrame validates one event frame.
func (sp *oapiSpec) checkFrame(frame []byte) error {
	ptr, err := sp.framePointer()
	if err != nil {
		return err
	}
	return sp.validate(ptr, "application/json", frame)
}

// TestOpenAPIDocumentsEveryRoute fails when a route of the server is not in
// the document, or the document has an operation the server does not route.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	spec := oapiLoad(t)
	routed := map[string]bool{}
	for _, r := range new(httpapi.Server).Routes() {
		method, path, ok := strings.Cut(r.Pattern, " ")
		if !ok || method == "" {
			t.Errorf("route %q has no method; every API route must name one", r.Pattern)
			continue
		}
		tmpl, err := oapiTemplate(path)
		if err != nil {
			t.Error(err)
			continue
		}
		routed[method+" "+tmpl] = true
		if _, err := spec.route(method, tmpl); err != nil {
			t.Errorf("route %q: %v", r.Pattern, err)
		}
	}
	for path, item := range spec.doc.Paths.Map() {
		for method := range item.Operations() {
			if !routed[method+" "+path] {
				t.Errorf("the document has %s %s, which the server does not route", method, path)
			}
		}
	}
}

// TestOpenAPIDocumentIsChecked makes sure the document check itself refuses
// broken documents.
func TestOpenAPIDocumentIsChecked(t *testing.T) {
	broken := map[string][2]string{
		"unknown type":     {`"type": "boolean"`, `"type": "bool"`},
		"dangling $ref":    {`"$ref": "#/components/schemas/UserRef"`, `"$ref": "#/components/schemas/UserReference"`},
		"missing path arg": {`"name": "message_id"`, `"name": "msg_id"`},
		"bad pattern":      {`"pattern": "^[A-Za-z0-9_-]*$"`, `"pattern": "^[A-Za-z0-9_-*$"`},
		"misspelt keyword": {`"additionalProperties": false`, `"additionalProperty": false`},
		"negative bound":   {`"maxProperties": 5`, `"maxProperties": -5`},
	}
	for name, edit := range broken {
		if !bytes.Contains(httpapi.OpenAPIDocument, []byte(edit[0])) {
			t.Fatalf("%s: the document has no %s to break", name, edit[0])
		}
		data := bytes.Replace(httpapi.OpenAPIDocument, []byte(edit[0]), []byte(edit[1]), 1)
		if _, err := oapiParse(data); err == nil {
			t.Errorf("%s: a broken document passed the check", name)
		}
	}
}

// TestOpenAPIValidatorIsStrict makes sure the validator the server test
// relies on refuses wrong answers, so a passing server test means something.
func TestOpenAPIValidatorIsStrict(t *testing.T) {
	spec := oapiLoad(t)
	route, err := spec.route(http.MethodGet, "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "/api/v1/me", nil)
	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	const user = `{"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","org_id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",` +
		`"email":"ana@example.com","name":"Ana","kind":"internal","role":"owner","status":"active",` +
		`"created_at":"2025-01-02T03:04:05.678Z","updated_at":"2025-01-02T03:04:05Z"}`
	const org = `{"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c","name":"Acme","settings":{"default_locale":"en",` +
		`"file_sharing":true,"meetings":true,"email_into_binders":true,"client_users_allowed":true,` +
		`"clients_can_create_binders":false,"clients_can_invite":false,"clients_share_only_with_managers":false,` +
		`"client_to_client_contact":false,"clients_see_directory":false,"user_deletion":"anonymise","mfa_required":"none",` +
		`"message_retention_days":0,"file_retention_days":0,"audit_retention_days":0,"message_edit_window_minutes":0,` +
		`"session_ttl_hours":0,"max_file_mb":0,"storage_quota_mb":0},"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}`
	good := `{"user":` + user + `,"org":` + org + `,"features":{"files.upload":true,"meetings":false}}`
	if _, err := spec.checkResponse(route, req, 200, jsonHdr, []byte(good)); err != nil {
		t.Fatalf("a right answer is refused: %v", err)
	}
	unauth := http.Header{"Content-Type": {"application/json"}, "Www-Authenticate": {`Bearer realm="atrium"`}}
	wrong := []struct {
		name   string
		status int
		hdr    http.Header
		body   string
	}{
		{"extra field", 200, jsonHdr, strings.Replace(good, `"name":"Ana"`, `"name":"Ana","password_hash":"x"`, 1)},
		{"missing field", 200, jsonHdr, `{"user":` + user + `}`},
		{"wrong type", 200, jsonHdr, strings.Replace(good, `"session_ttl_hours":0`, `"session_ttl_hours":"0"`, 1)},
		{"value not in enum", 200, jsonHdr, strings.Replace(good, `"kind":"internal"`, `"kind":"robot"`, 1)},
		{"unknown feature", 200, jsonHdr, strings.Replace(good, `"meetings":false`, `"teleport":false`, 1)},
		{"feature not a boolean", 200, jsonHdr, strings.Replace(good, `"meetings":false`, `"meetings":"off"`, 1)},
		{"bad date-time", 200, jsonHdr, strings.Replace(good, `"2025-01-02T03:04:05.678Z"`, `"yesterday"`, 1)},
		{"bad uuid", 200, jsonHdr, strings.Replace(good, `"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"`, `"42"`, 1)},
		{"bad email", 200, jsonHdr, strings.Replace(good, `"ana@example.com"`, `"Ana <ana@example.com>"`, 1)},
		{"null", 200, jsonHdr, strings.Replace(good, `"name":"Ana"`, `"name":null`, 1)},
		{"not JSON", 200, jsonHdr, `{"user":`},
		{"other media type", 200, http.Header{"Content-Type": {"text/html"}}, good},
		{"undocumented status", 418, jsonHdr, `{"error":{"code":"invalid","message":"x"}}`},
		{"error code of another status", 401, unauth, `{"error":{"code":"forbidden","message":"x"}}`},
		{"error without message", 401, unauth, `{"error":{"code":"unauthorized"}}`},
		{"401 without WWW-Authenticate", 401, jsonHdr, `{"error":{"code":"unauthorized","message":"x"}}`},
	}
	for _, w := range wrong {
		if _, err := spec.checkResponse(route, req, w.status, w.hdr, []byte(w.body)); err == nil {
			t.Errorf("%s: a wrong answer passed", w.name)
		}
	}

	del, err := spec.route(http.MethodDelete, "/api/v1/binders/{id}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := spec.checkResponse(del, req, 204, http.Header{}, []byte(`{}`)); err == nil {
		t.Error("a body on a 204 passed")
	}
	login, err := spec.route(http.MethodPost, "/api/v1/auth/login")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := spec.checkResponse(login, req, 429, jsonHdr, []byte(`{"error":{"code":"rate_limited","message":"x"}}`)); err == nil {
		t.Error("a 429 without Retry-After passed")
	}

	create, err := spec.route(http.MethodPost, "/api/v1/binders")
	if err != nil {
		t.Fatal(err)
	}
	send := func(ctype, body string, auth bool) error {
		r, _ := http.NewRequest(http.MethodPost, "/api/v1/binders", strings.NewReader(body))
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		if auth {
			r.Header.Set("Authorization", "Bearer x")
		}
		return spec.checkRequest(create, r, nil, []byte(body))
	}
	if err := send("application/json", `{"title":"Tax return"}`, true); err != nil {
		t.Fatalf("a right request is refused: %v", err)
	}
	for name, r := range map[string]struct {
		ctype, body string
		auth        bool
	}{
		"no credentials":   {"application/json", `{"title":"Tax return"}`, false},
		"unknown field":    {"application/json", `{"title":"Tax return","colour":"red"}`, true},
		"missing field":    {"application/json", `{}`, true},
		"too long":         {"application/json", `{"title":"` + strings.Repeat("t", 201) + `"}`, true},
		"blank":            {"application/json", `{"title":"  "}`, true},
		"other media type": {"text/plain", `{"title":"Tax return"}`, true},
		"no body":          {"", "", true},
	} {
		if err := send(r.ctype, r.body, r.auth); err == nil {
			t.Errorf("request with %s passed", name)
		}
	}

	const msg = `{"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d","binder_id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e","seq":1,` +
		`"sender_id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","text":"hi","mentions":[],"created_at":"2025-01-02T03:04:05Z","deleted":false}`
	head := `{"cursor":"AAAAAAAAAAEAAAAAAAAAAQ","type":"message.created","binder_id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e","created_at":"2025-01-02T03:04:05Z"`
	if err := spec.checkFrame([]byte(head + `,"message":` + msg + `}`)); err != nil {
		t.Fatalf("a right frame is refused: %v", err)
	}
	for name, f := range map[string]string{
		"no payload":         head + `}`,
		"payload of a kind":  head + `,"read":{"binder_id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e","read_seq":1,"unread":0}}`,
		"two payloads":       head + `,"message":` + msg + `,"read":{"binder_id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e","read_seq":1,"unread":0}}`,
		"unknown type":       strings.Replace(head, "message.created", "message.pinned", 1) + `,"message":` + msg + `}`,
		"bad message":        head + `,"message":` + strings.Replace(msg, `"seq":1`, `"seq":0`, 1) + `}`,
		"deleted binder ids": strings.Replace(head, "message.created", "binder.deleted", 1) + `,"binder":{"id":"x"}}`,
	} {
		if err := spec.checkFrame([]byte(f)); err == nil {
			t.Errorf("frame with %s passed", name)
		}
	}
}

// oapiReq says what the document should make of a request the test sends.
type oapiReq int

const (
	oapiReqValid   oapiReq = iota // the document takes it
	oapiReqInvalid                // the document refuses it, as the server does
	oapiReqAny                    // the document cannot tell (e.g. after and before together)
)

// oapiRaw is a request body sent as it is, not encoded as JSON.
type oapiRaw string

// oapiCall is one request to the server.
type oapiCall struct {
	method, path string   // path is a template of the document
	args         []string // the template's parameters, in order
	query        string
	token        string
	body         any    // encoded as JSON, but for oapiRaw
	ctype        string // default application/json when there is a body
	header       map[string]string
	req          oapiReq
	want         int
}

// oapiServer is a real server and the document that must describe it.
type oapiServer struct {
	t      *testing.T
	spec   *oapiSpec
	srv    *testserver.Server
	client *http.Client
	// seen holds "METHOD path response-key" for every answer checked.
	seen map[string]bool
	// header is the last answer's header.
	header http.Header
}

// oapiFill puts args into a path template, returning the path and the
// parameters by name.
func oapiFill(tmpl string, args []string) (string, map[string]string, error) {
	wildcards := oapiWildcard.FindAllStringSubmatch(tmpl, -1)
	if len(wildcards) != len(args) {
		return "", nil, fmt.Errorf("%s takes %d parameters, got %d", tmpl, len(wildcards), len(args))
	}
	path, params := tmpl, map[string]string{}
	for i, wc := range wildcards {
		params[wc[1]] = args[i]
		path = strings.Replace(path, wc[0], url.PathEscape(args[i]), 1)
	}
	return path, params, nil
}

// request builds the HTTP request of a call.
func (s *oapiServer) request(c oapiCall) (*http.Request, map[string]string, []byte) {
	s.t.Helper()
	path, params, err := oapiFill(c.path, c.args)
	if err != nil {
		s.t.Fatal(err)
	}
	u := s.srv.URL + path
	if c.query != "" {
		u += "?" + c.query
	}
	var body []byte
	switch b := c.body.(type) {
	case nil:
	case oapiRaw:
		body = []byte(b)
	default:
		if body, err = json.Marshal(b); err != nil {
			s.t.Fatal(err)
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(c.method, u, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		ct := c.ctype
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	return req, params, body
}

// do sends a call, checks the request against the document as the call
// says, and the answer's status against want and against the document. It
// returns the answer's body.
func (s *oapiServer) do(c oapiCall) []byte {
	s.t.Helper()
	route := s.route(c.method, c.path)
	req, params, body := s.request(c)
	label := fmt.Sprintf("%s %s", c.method, req.URL.RequestURI())
	s.checkRequest(label, c.req, route, req, params, body)
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s: %v", label, err)
	}
	s.header = resp.Header
	var data []byte
	if resp.StatusCode != http.StatusSwitchingProtocols { // else the body is the upgraded connection
		data, err = io.ReadAll(resp.Body)
	}
	resp.Body.Close()
	if err != nil {
		s.t.Fatalf("%s: read the answer: %v", label, err)
	}
	if resp.StatusCode != c.want {
		s.t.Errorf("%s: status %d, want %d: %.300s", label, resp.StatusCode, c.want, data)
	}
	s.checkResponse(label, route, req, resp.StatusCode, resp.Header, data)
	return data
}

func (s *oapiServer) route(method, path string) *routers.Route {
	s.t.Helper()
	route, err := s.spec.route(method, path)
	if err != nil {
		s.t.Fatal(err)
	}
	return route
}

func (s *oapiServer) checkRequest(label string, want oapiReq, route *routers.Route, req *http.Request, params map[string]string, body []byte) {
	s.t.Helper()
	if want == oapiReqAny {
		return
	}
	err := s.spec.checkRequest(route, req, params, body)
	switch {
	case want == oapiReqValid && err != nil:
		s.t.Errorf("%s: the document refuses a request the server takes: %v", label, err)
	case want == oapiReqInvalid && err == nil:
		s.t.Errorf("%s: the document takes a request the server refuses", label)
	}
}

func (s *oapiServer) checkResponse(label string, route *routers.Route, req *http.Request, status int, h http.Header, body []byte) {
	s.t.Helper()
	if status >= 500 {
		s.t.Errorf("%s: server error %d: %.300s", label, status, body)
	}
	key, err := s.spec.checkResponse(route, req, status, h, body)
	if err != nil {
		s.t.Errorf("%s → %d: the answer does not match the document: %v\nbody: %.500s", label, status, err, body)
		return
	}
	s.seen[route.Method+" "+route.Path+" "+key] = true
}

// oapiDecode decodes an answer the test needs values from.
func oapiDecode[T any](t *testing.T, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %T: %v: %.300s", v, err, data)
	}
	return v
}

// oapiPage is any list answer.
type oapiPage struct {
	Items      []json.RawMessage `json:"items"`
	NextCursor string            `json:"next_cursor"`
}

const oapiPassword = "correct horse battery"

// oapiWorld is the state the scenarios build on.
type oapiWorld struct {
	*oapiServer
	org                                    *atrium.Org
	owner, staff, client, boss             *atrium.User
	ownerTok, staffTok, clientTok, bossTok string
	binder                                 string // a binder of the owner, staff (editor) and client (viewer)
	m1, m2                                 *atrium.Message
}

// TestOpenAPIMatchesServer starts a real server, drives every route over
// HTTP (successes and typical refusals) and checks every answer against the
// document; then it checks every documented answer was seen.
func TestOpenAPIMatchesServer(t *testing.T) {
	spec := oapiLoad(t)
	cfg := app.DefaultConfig()
	cfg.AccountFailures, cfg.IPFailures = 3, 1000
	cfg.Files.MaxFileSize = 1 << 20
	cfg.Files.Scanner = clamdtest.Start(t, clamdtest.Options{})
	cfg.ExportWorker = false // exports() prepares them when it wants
	cfg.WebAuthn = app.WebAuthnConfig{RPID: "localhost", Origins: []string{"https://localhost"}}
	srv := testserver.New(t, "sqlite", testserver.Options{AppConfig: &cfg})
	s := &oapiServer{t: t, spec: spec, srv: srv, seen: map[string]bool{},
		client: &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
	w := &oapiWorld{oapiServer: s}
	w.org, w.owner = srv.Bootstrap(t, "Acme", "owner@acme.test", oapiPassword)
	_, w.boss = srv.Bootstrap(t, "Other", "boss@other.test", oapiPassword)
	w.staff = srv.CreateUser(t, w.org.ID, "staff@acme.test", atrium.KindInternal, oapiPassword)
	w.client = srv.CreateUser(t, w.org.ID, "client@acme.test", atrium.KindClient, oapiPassword)

	w.meta()
	w.ownerTok = w.login("owner@acme.test")
	w.staffTok = w.login("staff@acme.test")
	w.clientTok = w.login("client@acme.test")
	w.bossTok = w.login("boss@other.test")
	w.signIn()
	w.invitations()
	w.me()
	w.sessions()
	w.users()
	w.binders()
	w.members()
	w.messages()
	w.reads()
	w.files()
	w.organisation()
	w.auditLog()
	w.relationships()
	w.devices()
	w.signatureSSO()
	w.identityProviders()
	w.samlProviders()
	w.identities()
	w.oauthApps()
	w.mfa()
	w.passkeys()
	w.exports()
	w.reports()
	w.refusals()
	w.events()
	w.coverage()
}

// login signs in with the test password and returns the token.
func (w *oapiWorld) login(email string) string {
	w.t.Helper()
	data := w.do(oapiCall{method: "POST", path: "/api/v1/auth/login", want: 200,
		body: app.LoginInput{Email: email, Password: oapiPassword, DeviceName: "test", Platform: "go"}})
	res := oapiDecode[app.LoginResult](w.t, data)
	if res.Token == "" || res.Session == nil || !res.Session.Current {
		w.t.Fatalf("login %s: %s", email, data)
	}
	return res.Token
}

func (w *oapiWorld) meta() {
	data := w.do(oapiCall{method: "GET", path: "/api/v1/openapi.json", want: 200})
	if !bytes.Equal(data, httpapi.OpenAPIDocument) {
		w.t.Error("the server does not serve the embedded document")
	}
}

func (w *oapiWorld) signIn() {
	const login = "/api/v1/auth/login"
	w.do(oapiCall{method: "POST", path: login, want: 401, body: app.LoginInput{Email: "owner@acme.test", Password: "wrong password"}})
	w.do(oapiCall{method: "POST", path: login, want: 401, body: app.LoginInput{Email: "nobody@acme.test", Password: oapiPassword}})
	w.do(oapiCall{method: "POST", path: login, want: 400, req: oapiReqInvalid,
		body: map[string]any{"email": "owner@acme.test", "password": oapiPassword, "remember": true}})
	w.do(oapiCall{method: "POST", path: login, want: 400, req: oapiReqInvalid,
		body: app.LoginInput{Email: "owner@acme.test", Password: oapiPassword, DeviceName: strings.Repeat("d", 101)}})

	// Repeated failures are throttled per account.
	w.srv.CreateUser(w.t, w.org.ID, "slow@acme.test", atrium.KindInternal, oapiPassword)
	for range 3 {
		w.do(oapiCall{method: "POST", path: login, want: 401, body: app.LoginInput{Email: "slow@acme.test", Password: "wrong password"}})
	}
	w.do(oapiCall{method: "POST", path: login, want: 429, body: app.LoginInput{Email: "slow@acme.test", Password: oapiPassword}})

	// One address with the same password in two organisations: org_id says which.
	twin, _ := w.srv.Bootstrap(w.t, "Twin", "twin@twin.test", oapiPassword)
	w.srv.CreateUser(w.t, w.org.ID, "dual@client.test", atrium.KindClient, oapiPassword)
	w.srv.CreateUser(w.t, twin.ID, "dual@client.test", atrium.KindClient, oapiPassword)
	w.do(oapiCall{method: "POST", path: login, want: 200, body: app.LoginInput{Email: "dual@client.test", Password: oapiPassword}})
	w.do(oapiCall{method: "POST", path: login, want: 200, body: app.LoginInput{Email: "dual@client.test", Password: oapiPassword, OrgID: w.org.ID}})
	w.do(oapiCall{method: "POST", path: login, want: 400, req: oapiReqInvalid, body: map[string]any{"email": "dual@client.test", "password": oapiPassword, "org_id": "acme"}})

	// A deactivated account is refused like a wrong password; its sessions are ended.
	gone := w.srv.CreateUser(w.t, w.org.ID, "gone@acme.test", atrium.KindClient, oapiPassword)
	goneTok := w.login("gone@acme.test")
	w.do(oapiCall{method: "PATCH", path: "/api/v1/users/{id}", args: []string{gone.ID}, token: w.ownerTok, want: 200,
		body: map[string]string{"status": atrium.StatusDeactivated}})
	w.do(oapiCall{method: "POST", path: login, want: 401, body: app.LoginInput{Email: "gone@acme.test", Password: oapiPassword}})
	w.do(oapiCall{method: "GET", path: "/api/v1/me", token: goneTok, want: 401})

	// Logging out ends the session.
	tok := w.login("staff@acme.test")
	w.do(oapiCall{method: "POST", path: "/api/v1/auth/logout", token: tok, want: 204})
	w.do(oapiCall{method: "GET", path: "/api/v1/me", token: tok, want: 401})
	w.do(oapiCall{method: "POST", path: "/api/v1/auth/logout", token: tok, want: 401})
}

func (w *oapiWorld) invitations() {
	const accept = "/api/v1/auth/accept-invitation"
	data := w.do(oapiCall{method: "POST", path: "/api/v1/users", token: w.ownerTok, want: 201,
		body: app.CreateUserInput{Email: "Invitee@Acme.test", Kind: atrium.KindClient}})
	inv := oapiDecode[app.CreatedUser](w.t, data)
	if inv.Invitation == nil || inv.Status != atrium.StatusInvited {
		w.t.Fatalf("an invited user without an invitation: %s", data)
	}
	w.do(oapiCall{method: "POST", path: accept, want: 400, req: oapiReqInvalid,
		body: app.AcceptInvitationInput{Token: inv.Invitation.Token, Password: "short"}})
	w.do(oapiCall{method: "POST", path: accept, want: 200,
		body: app.AcceptInvitationInput{Token: inv.Invitation.Token, Password: oapiPassword}})
	w.do(oapiCall{method: "POST", path: accept, want: 404,
		body: app.AcceptInvitationInput{Token: inv.Invitation.Token, Password: oapiPassword}})
	w.do(oapiCall{method: "POST", path: accept, want: 404, req: oapiReqInvalid,
		body: app.AcceptInvitationInput{Token: "not-a-token", Password: oapiPassword}})
	w.login("invitee@acme.test")

	// The e-mailable link opens a page where the invited user chooses a
	// password; the link works once.
	data = w.do(oapiCall{method: "POST", path: "/api/v1/users", token: w.ownerTok, want: 201,
		body: app.CreateUserInput{Email: "linked@acme.test", Kind: atrium.KindInternal}})
	linked := oapiDecode[app.CreatedUser](w.t, data)
	link := linked.Invitation.Link
	if !strings.HasPrefix(link, w.srv.URL+"/invite?token=") {
		w.t.Fatalf("invitation link %q", link)
	}
	resp, err := w.oapiServer.client.Get(link)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		w.t.Fatalf("the invitation page: %v %v", resp, err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), linked.Invitation.Token) {
		w.t.Fatal("the invitation page does not carry the token")
	}
	form := url.Values{"token": {linked.Invitation.Token}, "password": {oapiPassword}}
	for _, want := range []int{200, 404} {
		resp, err := w.oapiServer.client.PostForm(w.srv.URL+"/invite", form)
		if err != nil || resp.StatusCode != want {
			w.t.Fatalf("accepting by the page: %v %v, want %d", resp, err, want)
		}
		resp.Body.Close()
	}
	w.login("linked@acme.test")
}

func (w *oapiWorld) me() {
	w.do(oapiCall{method: "GET", path: "/api/v1/me", token: w.ownerTok, want: 200})

	const pw = "/api/v1/me/password"
	w.srv.CreateUser(w.t, w.org.ID, "pw@acme.test", atrium.KindInternal, oapiPassword)
	tok := w.login("pw@acme.test")
	wrong := app.ChangePasswordInput{CurrentPassword: "not my password", NewPassword: "a new password"}
	for range 3 {
		w.do(oapiCall{method: "POST", path: pw, token: tok, want: 403, body: wrong})
	}
	w.do(oapiCall{method: "POST", path: pw, token: tok, want: 429, body: wrong})

	w.srv.CreateUser(w.t, w.org.ID, "pw2@acme.test", atrium.KindClient, oapiPassword)
	tok = w.login("pw2@acme.test")
	other := w.login("pw2@acme.test")
	w.do(oapiCall{method: "POST", path: pw, token: tok, want: 400, req: oapiReqInvalid,
		body: app.ChangePasswordInput{CurrentPassword: oapiPassword, NewPassword: "short"}})
	w.do(oapiCall{method: "POST", path: pw, token: tok, want: 204,
		body: app.ChangePasswordInput{CurrentPassword: oapiPassword, NewPassword: "a new password"}})
	w.do(oapiCall{method: "GET", path: "/api/v1/me", token: other, want: 401})
	w.do(oapiCall{method: "GET", path: "/api/v1/me", token: tok, want: 200})
}

func (w *oapiWorld) sessions() {
	const list, one = "/api/v1/me/sessions", "/api/v1/me/sessions/{id}"
	w.srv.CreateUser(w.t, w.org.ID, "sess@acme.test", atrium.KindInternal, oapiPassword)
	a, b, c := w.login("sess@acme.test"), w.login("sess@acme.test"), w.login("sess@acme.test")
	w.paginate(list, nil, a, 3)
	w.do(oapiCall{method: "GET", path: list, token: a, query: "limit=201", want: 400, req: oapiReqInvalid})
	w.do(oapiCall{method: "GET", path: list, token: a, query: "cursor=%25%25", want: 400, req: oapiReqInvalid})

	var bID string
	for _, raw := range oapiDecode[oapiPage](w.t, w.do(oapiCall{method: "GET", path: list, token: b, want: 200})).Items {
		if s := oapiDecode[atrium.Session](w.t, raw); s.Current {
			bID = s.ID
		}
	}
	w.do(oapiCall{method: "DELETE", path: one, args: []string{bID}, token: a, want: 204})
	w.do(oapiCall{method: "DELETE", path: one, args: []string{bID}, token: a, want: 404})
	w.do(oapiCall{method: "DELETE", path: one, args: []string{"not-an-id"}, token: a, want: 404, req: oapiReqInvalid})
	w.do(oapiCall{method: "GET", path: "/api/v1/me", token: b, want: 401})

	ended := oapiDecode[httpapi.EndedSessions](w.t, w.do(oapiCall{method: "DELETE", path: list, token: a, want: 200}))
	if ended.Ended != 1 {
		w.t.Errorf("ended %d sessions, want 1", ended.Ended)
	}
	w.do(oapiCall{method: "GET", path: "/api/v1/me", token: c, want: 401})
}

// paginate walks a list one item a page and checks it has at least n
// items, so cursors are exercised.
func (w *oapiWorld) paginate(path string, args []string, token string, n int) {
	w.t.Helper()
	count, query := 0, "limit=1"
	for {
		page := oapiDecode[oapiPage](w.t, w.do(oapiCall{method: "GET", path: path, args: args, token: token, query: query, want: 200}))
		count += len(page.Items)
		if page.NextCursor == "" || count > 1000 {
			break
		}
		query = "limit=1&cursor=" + url.QueryEscape(page.NextCursor)
	}
	if count < n {
		w.t.Errorf("%s: %d items, want at least %d", path, count, n)
	}
}

func (w *oapiWorld) users() {
	const users, user = "/api/v1/users", "/api/v1/users/{id}"
	w.paginate(users, nil, w.ownerTok, 5)
	w.do(oapiCall{method: "GET", path: users, token: w.staffTok, want: 403})

	create := func(want int, req oapiReq, body any) {
		w.t.Helper()
		w.do(oapiCall{method: "POST", path: users, token: w.ownerTok, want: want, req: req, body: body})
	}
	create(201, oapiReqValid, app.CreateUserInput{Email: "new@acme.test", Name: "New Colleague", Kind: atrium.KindInternal,
		Role: atrium.OrgRoleAdmin, Password: oapiPassword})
	create(409, oapiReqValid, app.CreateUserInput{Email: "new@acme.test", Kind: atrium.KindInternal})
	create(201, oapiReqValid, app.CreateUserInput{Email: "boss@other.test", Kind: atrium.KindClient}) // another organisation's address: nothing is revealed
	create(400, oapiReqInvalid, app.CreateUserInput{Email: "robot@acme.test", Kind: "robot"})
	create(400, oapiReqInvalid, app.CreateUserInput{Email: "c2@acme.test", Kind: atrium.KindClient, Role: atrium.OrgRoleAdmin})
	create(400, oapiReqInvalid, app.CreateUserInput{Email: "o2@acme.test", Kind: atrium.KindInternal, Role: atrium.OrgRoleOwner})
	create(400, oapiReqInvalid, app.CreateUserInput{Email: "Someone <s@acme.test>", Kind: atrium.KindInternal})
	create(400, oapiReqInvalid, app.CreateUserInput{Email: "short@acme.test", Kind: atrium.KindInternal, Password: "short"})
	w.do(oapiCall{method: "POST", path: users, token: w.staffTok, want: 403,
		body: app.CreateUserInput{Email: "x@acme.test", Kind: atrium.KindClient}})

	key := map[string]string{"Idempotency-Key": "create-user-1"}
	first := w.do(oapiCall{method: "POST", path: users, token: w.ownerTok, header: key, want: 201,
		body: app.CreateUserInput{Email: "idem@acme.test", Kind: atrium.KindClient}})
	again := w.do(oapiCall{method: "POST", path: users, token: w.ownerTok, header: key, want: 201,
		body: app.CreateUserInput{Email: "idem@acme.test", Kind: atrium.KindClient}})
	if oapiDecode[app.CreatedUser](w.t, first).ID != oapiDecode[app.CreatedUser](w.t, again).ID {
		w.t.Error("a retry with the same Idempotency-Key made another user")
	}
	w.do(oapiCall{method: "POST", path: users, token: w.ownerTok, header: key, want: 422,
		body: app.CreateUserInput{Email: "idem2@acme.test", Kind: atrium.KindClient}})
	w.do(oapiCall{method: "POST", path: users, token: w.ownerTok, want: 400, req: oapiReqInvalid,
		header: map[string]string{"Idempotency-Key": strings.Repeat("k", 201)},
		body:   app.CreateUserInput{Email: "idem3@acme.test", Kind: atrium.KindClient}})

	patch := func(id, token string, want int, req oapiReq, body any) {
		w.t.Helper()
		w.do(oapiCall{method: "PATCH", path: user, args: []string{id}, token: token, want: want, req: req, body: body})
	}
	patch(w.staff.ID, w.ownerTok, 200, oapiReqValid, map[string]string{"name": "Sam Staff"})
	patch(w.staff.ID, w.ownerTok, 200, oapiReqValid, map[string]string{})
	patch(w.owner.ID, w.ownerTok, 403, oapiReqValid, map[string]string{"status": atrium.StatusDeactivated})
	patch(w.client.ID, w.staffTok, 403, oapiReqValid, map[string]string{"name": "C"})
	patch(w.boss.ID, w.ownerTok, 404, oapiReqValid, map[string]string{"name": "B"})
	patch("not-an-id", w.ownerTok, 404, oapiReqInvalid, map[string]string{"name": "B"})
	patch(w.staff.ID, w.ownerTok, 400, oapiReqInvalid, map[string]string{"status": atrium.StatusInvited})
	patch(w.staff.ID, w.ownerTok, 400, oapiReqValid, map[string]string{"role": atrium.OrgRoleOwner})
	patch(w.client.ID, w.ownerTok, 400, oapiReqInvalid, map[string]string{"role": atrium.OrgRoleAdmin + "istrator"})
	patch(w.staff.ID, w.ownerTok, 400, oapiReqInvalid, map[string]string{"name": "  "})
}

func (w *oapiWorld) createBinder(token, title string) string {
	w.t.Helper()
	data := w.do(oapiCall{method: "POST", path: "/api/v1/binders", token: token, want: 201, body: app.CreateBinderInput{Title: title}})
	return oapiDecode[atrium.Binder](w.t, data).ID
}

func (w *oapiWorld) addMember(binder, userID, role string) {
	w.t.Helper()
	w.do(oapiCall{method: "POST", path: "/api/v1/binders/{id}/members", args: []string{binder}, token: w.ownerTok, want: 201,
		body: app.AddMemberInput{UserID: userID, Role: role}})
}

func (w *oapiWorld) binders() {
	const binders, binder = "/api/v1/binders", "/api/v1/binders/{id}"
	w.binder = w.createBinder(w.ownerTok, "Tax return 2025")
	w.addMember(w.binder, w.staff.ID, atrium.BinderRoleEditor)
	w.addMember(w.binder, w.client.ID, atrium.BinderRoleViewer)
	w.createBinder(w.ownerTok, "Onboarding")

	key := map[string]string{"Idempotency-Key": "create-binder-1"}
	first := w.do(oapiCall{method: "POST", path: binders, token: w.ownerTok, header: key, want: 201, body: app.CreateBinderInput{Title: "Once"}})
	again := w.do(oapiCall{method: "POST", path: binders, token: w.ownerTok, header: key, want: 201, body: app.CreateBinderInput{Title: "Once"}})
	if oapiDecode[atrium.Binder](w.t, first).ID != oapiDecode[atrium.Binder](w.t, again).ID {
		w.t.Error("a retry with the same Idempotency-Key made another binder")
	}
	w.do(oapiCall{method: "POST", path: binders, token: w.ownerTok, header: key, want: 422, body: app.CreateBinderInput{Title: "Twice"}})
	w.do(oapiCall{method: "POST", path: binders, token: w.clientTok, want: 403, body: app.CreateBinderInput{Title: "Mine"}})
	for _, title := range []string{"   ", strings.Repeat("t", 201), "tab\there"} {
		w.do(oapiCall{method: "POST", path: binders, token: w.ownerTok, want: 400, req: oapiReqInvalid, body: app.CreateBinderInput{Title: title}})
	}
	w.paginate(binders, nil, w.ownerTok, 3)

	w.do(oapiCall{method: "GET", path: binder, args: []string{w.binder}, token: w.clientTok, want: 200})
	w.do(oapiCall{method: "GET", path: binder, args: []string{w.binder}, token: w.bossTok, want: 404})
	w.do(oapiCall{method: "GET", path: binder, args: []string{"not-an-id"}, token: w.ownerTok, want: 404, req: oapiReqInvalid})

	w.do(oapiCall{method: "PATCH", path: binder, args: []string{w.binder}, token: w.ownerTok, want: 200, body: app.CreateBinderInput{Title: "Tax return 2025 (final)"}})
	w.do(oapiCall{method: "PATCH", path: binder, args: []string{w.binder}, token: w.staffTok, want: 403, body: app.CreateBinderInput{Title: "Mine now"}})
	w.do(oapiCall{method: "PATCH", path: binder, args: []string{w.binder}, token: w.ownerTok, want: 400, req: oapiReqInvalid, body: map[string]any{}})
	w.do(oapiCall{method: "PATCH", path: binder, args: []string{atrium.NewID()}, token: w.ownerTok, want: 404, body: app.CreateBinderInput{Title: "Ghost"}})

	scratch := w.createBinder(w.ownerTok, "Scratch")
	w.addMember(scratch, w.staff.ID, atrium.BinderRoleEditor)
	w.do(oapiCall{method: "POST", path: "/api/v1/binders/{id}/messages", args: []string{scratch}, token: w.staffTok, want: 201, body: app.PostMessageInput{Text: "bye"}})
	w.do(oapiCall{method: "DELETE", path: binder, args: []string{scratch}, token: w.staffTok, want: 403})
	w.do(oapiCall{method: "DELETE", path: binder, args: []string{scratch}, token: w.ownerTok, want: 204})
	w.do(oapiCall{method: "DELETE", path: binder, args: []string{scratch}, token: w.ownerTok, want: 404})
	w.do(oapiCall{method: "GET", path: binder, args: []string{scratch}, token: w.staffTok, want: 404})
}

func (w *oapiWorld) members() {
	const members, member = "/api/v1/binders/{id}/members", "/api/v1/binders/{id}/members/{user_id}"
	add := func(binder, token string, want int, req oapiReq, body any, header map[string]string) []byte {
		w.t.Helper()
		return w.do(oapiCall{method: "POST", path: members, args: []string{binder}, token: token, want: want, req: req, body: body, header: header})
	}
	newcomer := w.srv.CreateUser(w.t, w.org.ID, "newcomer@acme.test", atrium.KindClient, oapiPassword)
	add(w.binder, w.ownerTok, 409, oapiReqValid, app.AddMemberInput{UserID: w.staff.ID}, nil)
	add(w.binder, w.ownerTok, 400, oapiReqValid, app.AddMemberInput{UserID: w.boss.ID}, nil)
	add(w.binder, w.ownerTok, 400, oapiReqInvalid, app.AddMemberInput{UserID: newcomer.ID, Role: "admin"}, nil)
	add(w.binder, w.ownerTok, 400, oapiReqInvalid, app.AddMemberInput{UserID: "nobody"}, nil)
	add(w.binder, w.staffTok, 403, oapiReqValid, app.AddMemberInput{UserID: newcomer.ID}, nil)
	add(atrium.NewID(), w.ownerTok, 404, oapiReqValid, app.AddMemberInput{UserID: newcomer.ID}, nil)
	key := map[string]string{"Idempotency-Key": "add-member-1"}
	first := add(w.binder, w.ownerTok, 201, oapiReqValid, app.AddMemberInput{UserID: newcomer.ID, Role: atrium.BinderRoleViewer}, key)
	again := add(w.binder, w.ownerTok, 201, oapiReqValid, app.AddMemberInput{UserID: newcomer.ID, Role: atrium.BinderRoleViewer}, key)
	if !bytes.Equal(first, again) {
		w.t.Errorf("a retry with the same Idempotency-Key answered otherwise:\n%s\n%s", first, again)
	}
	add(w.binder, w.ownerTok, 422, oapiReqValid, app.AddMemberInput{UserID: newcomer.ID, Role: atrium.BinderRoleEditor}, key)

	w.paginate(members, []string{w.binder}, w.clientTok, 4)
	w.do(oapiCall{method: "GET", path: members, args: []string{atrium.NewID()}, token: w.ownerTok, want: 404})

	remove := func(userID, token string, want int) {
		w.t.Helper()
		w.do(oapiCall{method: "DELETE", path: member, args: []string{w.binder, userID}, token: token, want: want})
	}
	remove(w.client.ID, w.staffTok, 403)
	remove(w.owner.ID, w.ownerTok, 409)
	remove(w.boss.ID, w.ownerTok, 404)
	remove(newcomer.ID, w.ownerTok, 204)
	w.addMember(w.binder, newcomer.ID, atrium.BinderRoleViewer)
	newcomerTok := w.login("newcomer@acme.test")
	remove(newcomer.ID, newcomerTok, 204)
	w.do(oapiCall{method: "DELETE", path: member, args: []string{atrium.NewID(), w.owner.ID}, token: w.ownerTok, want: 404})
}

func (w *oapiWorld) post(token string, want int, req oapiReq, body any, header map[string]string) *atrium.Message {
	w.t.Helper()
	data := w.do(oapiCall{method: "POST", path: "/api/v1/binders/{id}/messages", args: []string{w.binder}, token: token,
		want: want, req: req, body: body, header: header})
	if want != 201 {
		return nil
	}
	m := oapiDecode[atrium.Message](w.t, data)
	return &m
}

func (w *oapiWorld) messages() {
	const list, one = "/api/v1/binders/{id}/messages", "/api/v1/binders/{id}/messages/{message_id}"
	w.m1 = w.post(w.ownerTok, 201, oapiReqValid, app.PostMessageInput{Text: "Hello @staff@acme.test, the **forms** are in."}, nil)
	if len(w.m1.Mentions) != 1 || w.m1.Mentions[0] != w.staff.ID {
		w.t.Errorf("mentions %v, want the staff user", w.m1.Mentions)
	}
	reply := app.PostMessageInput{Text: "Thanks!", ReplyTo: w.m1.ID, ClientKey: "client-key-1"}
	w.m2 = w.post(w.staffTok, 201, oapiReqValid, reply, nil)
	if again := w.post(w.staffTok, 201, oapiReqValid, reply, nil); again.ID != w.m2.ID {
		w.t.Error("a post with a used client_key made another message")
	}
	key := map[string]string{"Idempotency-Key": "post-1"}
	first := w.post(w.ownerTok, 201, oapiReqValid, app.PostMessageInput{Text: "Once"}, key)
	if again := w.post(w.ownerTok, 201, oapiReqValid, app.PostMessageInput{Text: "Once"}, key); again.ID != first.ID {
		w.t.Error("a retry with the same Idempotency-Key made another message")
	}
	w.post(w.ownerTok, 422, oapiReqValid, app.PostMessageInput{Text: "Twice"}, key)
	w.post(w.clientTok, 403, oapiReqValid, app.PostMessageInput{Text: "May I?"}, nil)
	w.post(w.ownerTok, 400, oapiReqInvalid, app.PostMessageInput{Text: " \n "}, nil)
	w.post(w.ownerTok, 400, oapiReqInvalid, app.PostMessageInput{Text: "Re", ReplyTo: "first"}, nil)
	w.post(w.ownerTok, 400, oapiReqValid, app.PostMessageInput{Text: "Re", ReplyTo: atrium.NewID()}, nil)
	w.post(w.ownerTok, 413, oapiReqInvalid, app.PostMessageInput{Text: strings.Repeat("x", atrium.MaxMessageBytes+1)}, nil)
	w.do(oapiCall{method: "POST", path: list, args: []string{atrium.NewID()}, token: w.ownerTok, want: 404, body: app.PostMessageInput{Text: "Hi"}})
	w.post(w.ownerTok, 201, oapiReqValid, app.PostMessageInput{Text: "Four"}, nil)

	get := func(token, query string, want int, req oapiReq) oapiPage {
		w.t.Helper()
		data := w.do(oapiCall{method: "GET", path: list, args: []string{w.binder}, token: token, query: query, want: want, req: req})
		if want != 200 {
			return oapiPage{}
		}
		return oapiDecode[oapiPage](w.t, data)
	}
	get(w.clientTok, "", 200, oapiReqValid)
	get(w.clientTok, "after=1", 200, oapiReqValid)
	for _, first := range []string{"limit=2", "before=4&limit=2"} {
		page := get(w.clientTok, first, 200, oapiReqValid)
		if page.NextCursor == "" {
			w.t.Fatalf("%s: no next_cursor", first)
		}
		get(w.clientTok, "limit=2&cursor="+url.QueryEscape(page.NextCursor), 200, oapiReqValid)
	}
	get(w.clientTok, "after=1&before=3", 400, oapiReqAny)
	get(w.clientTok, "after=-1", 400, oapiReqInvalid)
	get(w.clientTok, "cursor=bm9wZQ", 400, oapiReqValid)
	w.do(oapiCall{method: "GET", path: list, args: []string{atrium.NewID()}, token: w.ownerTok, want: 404})

	edit := func(id, token string, want int, req oapiReq, text string) {
		w.t.Helper()
		w.do(oapiCall{method: "PATCH", path: one, args: []string{w.binder, id}, token: token, want: want, req: req,
			body: app.EditMessageInput{Text: text}})
	}
	edit(w.m2.ID, w.staffTok, 200, oapiReqValid, "Thanks, @owner@acme.test!")
	edit(w.m1.ID, w.staffTok, 403, oapiReqValid, "Not mine")
	edit(atrium.NewID(), w.staffTok, 404, oapiReqValid, "Ghost")
	edit(w.m2.ID, w.staffTok, 400, oapiReqInvalid, "")
	edit(w.m2.ID, w.staffTok, 413, oapiReqInvalid, strings.Repeat("y", atrium.MaxMessageBytes+1))

	del := func(id, token string, want int, req oapiReq) {
		w.t.Helper()
		w.do(oapiCall{method: "DELETE", path: one, args: []string{w.binder, id}, token: token, want: want, req: req})
	}
	del(w.m1.ID, w.clientTok, 403, oapiReqValid)
	del(w.m2.ID, w.ownerTok, 200, oapiReqValid)
	del(w.m2.ID, w.ownerTok, 404, oapiReqValid)
	del("not-an-id", w.ownerTok, 404, oapiReqInvalid)
	edit(w.m2.ID, w.staffTok, 404, oapiReqValid, "Back again") // a tombstone cannot be edited
	get(w.clientTok, "", 200, oapiReqValid)                    // lists the tombstone
}

func (w *oapiWorld) reads() {
	const read = "/api/v1/binders/{id}/read"
	mark := func(binder, token string, want int, req oapiReq, body any) {
		w.t.Helper()
		w.do(oapiCall{method: "POST", path: read, args: []string{binder}, token: token, want: want, req: req, body: body})
	}
	mark(w.binder, w.staffTok, 200, oapiReqValid, nil)
	mark(w.binder, w.ownerTok, 200, oapiReqValid, app.MarkReadInput{Seq: 1})
	mark(w.binder, w.ownerTok, 200, oapiReqValid, map[string]any{})
	mark(w.binder, w.ownerTok, 400, oapiReqValid, app.MarkReadInput{Seq: 9999})
	mark(w.binder, w.ownerTok, 400, oapiReqInvalid, app.MarkReadInput{Seq: -1})
	mark(atrium.NewID(), w.ownerTok, 404, oapiReqValid, nil)
}

func (w *oapiWorld) organisation() {
	const org = "/api/v1/org"
	w.do(oapiCall{method: "GET", path: org, token: w.clientTok, want: 200})
	patch := func(token string, want int, req oapiReq, body any) {
		w.t.Helper()
		w.do(oapiCall{method: "PATCH", path: org, token: token, want: want, req: req, body: body})
	}
	patch(w.ownerTok, 200, oapiReqValid, map[string]any{"name": "Acme Ltd"})
	patch(w.ownerTok, 200, oapiReqValid, map[string]any{})
	patch(w.staffTok, 403, oapiReqValid, map[string]any{"name": "Mine"})
	patch(w.ownerTok, 400, oapiReqInvalid, map[string]any{"name": " "})
	patch(w.ownerTok, 200, oapiReqValid, map[string]any{"settings": map[string]any{}})
	patch(w.ownerTok, 400, oapiReqInvalid, map[string]any{"settings": map[string]any{"default_locale": "fr"}})
	patch(w.ownerTok, 400, oapiReqInvalid, map[string]any{"settings": map[string]any{"default_locale": "en", "theme": "dark"}})
	patch(w.ownerTok, 400, oapiReqInvalid, map[string]any{"settings": map[string]any{"default_locale": "en", "session_ttl_hours": 8761}})

	// With the setting on, clients may create binders; the settings not
	// named keep their values.
	patch(w.ownerTok, 200, oapiReqValid, map[string]any{"settings": map[string]any{"default_locale": "ja", "clients_can_create_binders": true, "session_ttl_hours": 24}})
	w.createBinder(w.clientTok, "My own binder")
	o := oapiDecode[atrium.Org](w.t, w.do(oapiCall{method: "PATCH", path: org, token: w.ownerTok, want: 200,
		body: map[string]any{"settings": map[string]any{"default_locale": "en"}}}))
	if !o.Settings.ClientsCanCreateBinders || o.Settings.SessionTTLHours != 24 || !o.Settings.FileSharing {
		w.t.Errorf("settings not named changed: %+v", o.Settings)
	}

	const settings = "/api/v1/org/settings"
	got := oapiDecode[atrium.OrgSettings](w.t, w.do(oapiCall{method: "GET", path: settings, token: w.clientTok, want: 200}))
	if got.DefaultLocale != "en" || !got.ClientsCanCreateBinders {
		w.t.Errorf("GET settings: %+v", got)
	}
	spatch := func(token string, want int, req oapiReq, body any) []byte {
		w.t.Helper()
		return w.do(oapiCall{method: "PATCH", path: settings, token: token, want: want, req: req, body: body})
	}
	got = oapiDecode[atrium.OrgSettings](w.t, spatch(w.ownerTok, 200, oapiReqValid, map[string]any{"clients_can_create_binders": false, "message_edit_window_minutes": 15}))
	if got.ClientsCanCreateBinders || got.MessageEditWindowMinutes != 15 || got.SessionTTLHours != 24 {
		w.t.Errorf("PATCH settings: %+v", got)
	}
	spatch(w.staffTok, 403, oapiReqValid, map[string]any{"meetings": false})
	spatch(w.ownerTok, 400, oapiReqInvalid, map[string]any{"meeting": false})
	spatch(w.ownerTok, 400, oapiReqInvalid, map[string]any{"message_edit_window_minutes": -1})
	spatch(w.ownerTok, 400, oapiReqInvalid, []int{1})
	w.do(oapiCall{method: "PATCH", path: settings, token: w.ownerTok, body: oapiRaw(`{"meetings":false}`), ctype: "text/plain", want: 415, req: oapiReqAny})
	w.do(oapiCall{method: "POST", path: "/api/v1/binders", token: w.clientTok, want: 403, body: app.CreateBinderInput{Title: "Another"}})
	w.permissions()
}

// reports reads the usage report as JSON and CSV.
func (w *oapiWorld) reports() {
	const usage = "/api/v1/reports/usage"
	if _, err := w.srv.App.AggregateUsage(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	today := time.Now().UTC().Format("2006-01-02")
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
	rep := oapiDecode[app.UsageReport](w.t, w.do(oapiCall{method: "GET", path: usage, token: w.ownerTok,
		query: "from=" + today + "&to=" + tomorrow, want: 200}))
	if len(rep.Intervals) != 1 || rep.Total.Messages == 0 {
		w.t.Errorf("usage today: %+v", rep.Total)
	}
	csvData := w.do(oapiCall{method: "GET", path: usage, token: w.ownerTok, query: "from=" + today + "&to=" + tomorrow + "&interval=week&format=csv", want: 200})
	if !strings.HasPrefix(string(csvData), "start,active_internal_users") || !strings.Contains(string(csvData), "\ntotal,") {
		w.t.Errorf("usage CSV: %q", csvData)
	}
	w.do(oapiCall{method: "GET", path: usage, token: w.staffTok, query: "from=" + today + "&to=" + tomorrow, want: 403})
	w.do(oapiCall{method: "GET", path: usage, token: w.ownerTok, query: "from=" + tomorrow + "&to=" + today, want: 400})
	w.do(oapiCall{method: "GET", path: usage, token: w.ownerTok, query: "from=2019-01-01&to=" + tomorrow, want: 400})
	w.do(oapiCall{method: "GET", path: usage, token: w.ownerTok, query: "from=yesterday&to=" + tomorrow, want: 400})
	w.do(oapiCall{method: "GET", path: usage, token: w.ownerTok, query: "from=" + today + "&to=" + tomorrow + "&interval=month", want: 400, req: oapiReqInvalid})
}

// mfa turns TOTP on for a user, signs in with it, and turns it off.
func (w *oapiWorld) mfa() {
	const start, confirm, disable, complete = "/api/v1/me/mfa/totp", "/api/v1/me/mfa/totp/confirm", "/api/v1/me/mfa/disable", "/api/v1/auth/mfa"
	w.srv.CreateUser(w.t, w.org.ID, "mfa@acme.test", atrium.KindInternal, oapiPassword)
	tok := w.login("mfa@acme.test")
	w.do(oapiCall{method: "POST", path: confirm, token: tok, want: 409, body: app.ConfirmTOTPInput{Code: "123456", Password: oapiPassword}})
	e := oapiDecode[app.TOTPEnrolment](w.t, w.do(oapiCall{method: "POST", path: start, token: tok, want: 201}))
	w.do(oapiCall{method: "POST", path: confirm, token: tok, want: 400, body: app.ConfirmTOTPInput{Code: "000000", Password: oapiPassword}})
	now := time.Now()
	code, _ := totp.GenerateCode(e.Secret, now)
	w.do(oapiCall{method: "POST", path: confirm, token: tok, want: 403, body: app.ConfirmTOTPInput{Code: code, Password: "not it"}})
	codes := oapiDecode[httpapi.RecoveryCodes](w.t, w.do(oapiCall{method: "POST", path: confirm, token: tok, want: 200, body: app.ConfirmTOTPInput{Code: code, Password: oapiPassword}}))
	if len(codes.RecoveryCodes) != 10 {
		w.t.Errorf("recovery codes: %+v", codes)
	}
	w.do(oapiCall{method: "POST", path: start, token: tok, want: 409})
	res := oapiDecode[app.LoginResult](w.t, w.do(oapiCall{method: "POST", path: "/api/v1/auth/login", want: 200,
		body: app.LoginInput{Email: "mfa@acme.test", Password: oapiPassword}}))
	if !res.MFARequired || res.Token != "" {
		w.t.Fatalf("a sign-in with TOTP on: %+v", res)
	}
	w.do(oapiCall{method: "POST", path: complete, want: 401, body: app.CompleteMFAInput{MFAToken: res.MFAToken, Code: "000000"}})
	w.do(oapiCall{method: "POST", path: complete, want: 400, req: oapiReqAny, body: app.CompleteMFAInput{MFAToken: res.MFAToken}})
	done := oapiDecode[app.LoginResult](w.t, w.do(oapiCall{method: "POST", path: complete, want: 200,
		body: app.CompleteMFAInput{MFAToken: res.MFAToken, RecoveryCode: codes.RecoveryCodes[0]}}))
	w.do(oapiCall{method: "POST", path: "/api/v1/auth/mfa/enroll", want: 401, body: map[string]string{"mfa_token": res.MFAToken}})
	w.do(oapiCall{method: "POST", path: "/api/v1/auth/mfa/enroll", want: 400, req: oapiReqAny, body: map[string]string{"mfa_token": "x"}})
	w.do(oapiCall{method: "POST", path: disable, token: done.Token, want: 403, body: app.DisableMFAInput{Password: "not it"}})
	w.do(oapiCall{method: "POST", path: disable, token: done.Token, want: 204, body: app.DisableMFAInput{Password: oapiPassword}})

	// The organisation's login policy.
	const settings, login, enroll = "/api/v1/org/settings", "/api/v1/auth/login", "/api/v1/auth/mfa/enroll"
	w.do(oapiCall{method: "PATCH", path: settings, token: w.ownerTok, want: 200,
		body: map[string]any{"mfa_required": "internal", "login_methods_client": []string{"signature"}}})
	w.do(oapiCall{method: "POST", path: login, want: 403, body: app.LoginInput{Email: "client@acme.test", Password: oapiPassword}})
	w.srv.CreateUser(w.t, w.org.ID, "enrol@acme.test", atrium.KindInternal, oapiPassword)
	first := oapiDecode[app.LoginResult](w.t, w.do(oapiCall{method: "POST", path: login, want: 200,
		body: app.LoginInput{Email: "enrol@acme.test", Password: oapiPassword}}))
	if !first.MFAEnrollment {
		w.t.Fatalf("a required second factor not set up: %+v", first)
	}
	en := oapiDecode[app.TOTPEnrolment](w.t, w.do(oapiCall{method: "POST", path: enroll, want: 201, body: map[string]string{"mfa_token": first.MFAToken}}))
	c, _ := totp.GenerateCode(en.Secret, time.Now())
	w.do(oapiCall{method: "POST", path: complete, want: 200, body: app.CompleteMFAInput{MFAToken: first.MFAToken, Code: c}})
	next := oapiDecode[app.LoginResult](w.t, w.do(oapiCall{method: "POST", path: login, want: 200,
		body: app.LoginInput{Email: "enrol@acme.test", Password: oapiPassword}}))
	w.do(oapiCall{method: "POST", path: enroll, want: 409, body: map[string]string{"mfa_token": next.MFAToken}})
	w.do(oapiCall{method: "PATCH", path: settings, token: w.ownerTok, want: 200,
		body: map[string]any{"mfa_required": "none", "login_methods_client": nil}})
}

// signatureSSO registers an app and signs a user in with its signature.
func (w *oapiWorld) signatureSSO() {
	const clients, client, sso = "/api/v1/api-clients", "/api/v1/api-clients/{id}", "/api/v1/auth/sso/signature"
	c := oapiDecode[app.CreatedAPIClient](w.t, w.do(oapiCall{method: "POST", path: clients, token: w.ownerTok, want: 201,
		body: app.CreateAPIClientInput{Name: "Portal", Provision: app.ProvisionClient}}))
	w.do(oapiCall{method: "POST", path: clients, token: w.staffTok, want: 403, body: app.CreateAPIClientInput{Name: "X", Provision: "none"}})
	w.do(oapiCall{method: "POST", path: clients, token: w.ownerTok, want: 400, req: oapiReqInvalid, body: app.CreateAPIClientInput{Name: "X", Provision: "all"}})
	w.paginate(clients, nil, w.ownerTok, 1)
	w.do(oapiCall{method: "GET", path: clients, token: w.clientTok, want: 403})
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	key, _ := hex.DecodeString(c.Secret)
	signedAs := func(unique, nonce, email string) app.SignatureLoginInput {
		in := app.SignatureLoginInput{ClientID: c.ID, UniqueID: unique, Timestamp: ts, Nonce: nonce, Email: email}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(c.ID + "\n" + unique + "\n" + ts + "\n" + nonce + "\n" + email + "\n"))
		in.Signature = hex.EncodeToString(m.Sum(nil))
		return in
	}
	signed := func(unique, nonce string) app.SignatureLoginInput {
		return signedAs(unique, nonce, "portal-"+nonce+"@acme.test")
	}
	res := oapiDecode[app.LoginResult](w.t, w.do(oapiCall{method: "POST", path: sso, want: 200, body: signed("u-1", "a")}))
	if res.Token == "" || res.User.Kind != atrium.KindClient {
		w.t.Errorf("signature sign-in: %+v", res.User)
	}
	w.do(oapiCall{method: "POST", path: sso, want: 401, body: signed("u-1", "a")})
	taken := signedAs("u-3", "c", "client@acme.test") // an existing user's address
	w.do(oapiCall{method: "POST", path: sso, want: 409, body: taken})
	bad := signed("u-2", "b")
	bad.Signature = strings.Repeat("0", 64)
	w.do(oapiCall{method: "POST", path: sso, want: 401, body: bad})
	w.do(oapiCall{method: "POST", path: sso, want: 400, req: oapiReqInvalid, body: map[string]string{"client_id": c.ID}})
	none := oapiDecode[app.CreatedAPIClient](w.t, w.do(oapiCall{method: "POST", path: clients, token: w.ownerTok, want: 201,
		body: app.CreateAPIClientInput{Name: "Strict", Provision: app.ProvisionNone}}))
	m := hmac.New(sha256.New, func() []byte { k, _ := hex.DecodeString(none.Secret); return k }())
	m.Write([]byte(none.ID + "\nu-9\n" + ts + "\nz"))
	w.do(oapiCall{method: "POST", path: sso, want: 403, body: app.SignatureLoginInput{ClientID: none.ID, UniqueID: "u-9", Timestamp: ts,
		Nonce: "z", Signature: hex.EncodeToString(m.Sum(nil))}})
	w.do(oapiCall{method: "DELETE", path: client, args: []string{c.ID}, token: w.staffTok, want: 403})
	w.do(oapiCall{method: "DELETE", path: client, args: []string{c.ID}, token: w.ownerTok, want: 204})
	w.do(oapiCall{method: "DELETE", path: client, args: []string{c.ID}, token: w.ownerTok, want: 404})
}

// exports asks for an export of the owner's data and downloads it.
func (w *oapiWorld) exports() {
	const exports, export, content = "/api/v1/me/exports", "/api/v1/me/exports/{id}", "/api/v1/me/exports/{id}/content"
	e := oapiDecode[store.Export](w.t, w.do(oapiCall{method: "POST", path: exports, token: w.staffTok, want: 202}))
	w.do(oapiCall{method: "GET", path: content, args: []string{e.ID}, token: w.staffTok, want: 409})
	w.do(oapiCall{method: "GET", path: export, args: []string{e.ID}, token: w.ownerTok, want: 404})
	if err := w.srv.App.PrepareExports(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	got := oapiDecode[store.Export](w.t, w.do(oapiCall{method: "GET", path: export, args: []string{e.ID}, token: w.staffTok, want: 200}))
	if got.Status != store.ExportReady {
		w.t.Fatalf("export: %+v", got)
	}
	data := w.do(oapiCall{method: "GET", path: content, args: []string{e.ID}, token: w.staffTok, want: 200})
	if _, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err != nil {
		w.t.Errorf("the export is not a ZIP archive: %v", err)
	}
	w.do(oapiCall{method: "GET", path: content, args: []string{e.ID}, token: w.staffTok, want: 206, header: map[string]string{"Range": "bytes=0-3"}})
	w.do(oapiCall{method: "GET", path: content, args: []string{e.ID}, token: w.clientTok, want: 404})
}

// devices lists, logs out and wipes a user's devices, and a wiped device
// confirms.
func (w *oapiWorld) devices() {
	const key, confirm = "/api/v1/me/device-key", "/api/v1/me/wipe"
	const devs, dev, wipe = "/api/v1/users/{id}/devices", "/api/v1/users/{id}/devices/{session_id}", "/api/v1/users/{id}/devices/{session_id}/wipe"
	signIn := func(email string) app.LoginResult {
		return oapiDecode[app.LoginResult](w.t, w.do(oapiCall{method: "POST", path: "/api/v1/auth/login", want: 200,
			body: app.LoginInput{Email: email, Password: oapiPassword, DeviceName: "spare"}}))
	}
	w.do(oapiCall{method: "GET", path: key, token: w.clientTok, want: 200})
	w.do(oapiCall{method: "POST", path: confirm, token: w.clientTok, want: 409})
	w.do(oapiCall{method: "GET", path: devs, args: []string{w.client.ID}, token: w.ownerTok, want: 200})
	w.do(oapiCall{method: "GET", path: devs, args: []string{w.client.ID}, token: w.clientTok, want: 200})
	w.do(oapiCall{method: "GET", path: devs, args: []string{w.owner.ID}, token: w.clientTok, want: 403})
	w.do(oapiCall{method: "GET", path: devs, args: []string{w.client.ID}, token: w.bossTok, want: 404})

	spare := signIn("client@acme.test")
	w.do(oapiCall{method: "POST", path: wipe, args: []string{w.client.ID, spare.Session.ID}, token: w.staffTok, want: 403})
	w.do(oapiCall{method: "POST", path: wipe, args: []string{w.client.ID, atrium.NewID()}, token: w.ownerTok, want: 404})
	s := oapiDecode[atrium.Session](w.t, w.do(oapiCall{method: "POST", path: wipe, args: []string{w.client.ID, spare.Session.ID}, token: w.ownerTok, want: 202}))
	if s.Wipe == nil || s.Wipe.Status != atrium.WipePending {
		w.t.Errorf("wipe asked: %+v", s.Wipe)
	}
	w.do(oapiCall{method: "GET", path: key, token: spare.Token, want: 401})
	w.do(oapiCall{method: "POST", path: confirm, token: spare.Token, want: 204})

	other := signIn("client@acme.test")
	w.do(oapiCall{method: "DELETE", path: dev, args: []string{w.client.ID, other.Session.ID}, token: w.staffTok, want: 403})
	w.do(oapiCall{method: "DELETE", path: dev, args: []string{w.client.ID, atrium.NewID()}, token: w.ownerTok, want: 404})
	w.do(oapiCall{method: "DELETE", path: dev, args: []string{w.client.ID, other.Session.ID}, token: w.ownerTok, want: 204})
	w.do(oapiCall{method: "DELETE", path: devs, args: []string{w.owner.ID}, token: w.staffTok, want: 403})
	w.do(oapiCall{method: "DELETE", path: devs, args: []string{w.client.ID}, token: w.bossTok, want: 404})
	temp := w.srv.CreateUser(w.t, w.org.ID, "temp@acme.test", atrium.KindInternal, oapiPassword)
	signIn("temp@acme.test")
	signIn("temp@acme.test")
	ended := oapiDecode[httpapi.EndedSessions](w.t, w.do(oapiCall{method: "DELETE", path: devs, args: []string{temp.ID}, token: w.ownerTok, want: 200}))
	if ended.Ended != 2 {
		w.t.Errorf("logged out %d devices, want 2", ended.Ended)
	}

	// Deleting a user.
	const user = "/api/v1/users/{id}"
	w.do(oapiCall{method: "DELETE", path: user, args: []string{temp.ID}, token: w.staffTok, want: 403})
	w.do(oapiCall{method: "DELETE", path: user, args: []string{temp.ID}, token: w.bossTok, want: 404})
	w.do(oapiCall{method: "DELETE", path: user, args: []string{temp.ID}, token: w.ownerTok, want: 204})
	w.do(oapiCall{method: "DELETE", path: user, args: []string{temp.ID}, token: w.ownerTok, want: 404})
	gone := oapiDecode[httpapi.List[atrium.User]](w.t, w.do(oapiCall{method: "GET", path: "/api/v1/users", token: w.ownerTok, query: "limit=200", want: 200}))
	for _, u := range gone.Items {
		if u.ID == temp.ID && (u.Status != atrium.StatusDeleted || u.Email == "temp@acme.test") {
			w.t.Errorf("a deleted user listed as %+v", u)
		}
	}
}

// relationships assigns a relationship manager, explains a decision and
// looks people up.
func (w *oapiWorld) relationships() {
	const rels, explain, rel = "/api/v1/relationships", "/api/v1/relationships/explain", "/api/v1/relationships/{id}"
	r := oapiDecode[atrium.Relationship](w.t, w.do(oapiCall{method: "POST", path: rels, token: w.ownerTok, want: 201,
		body: app.RelationshipInput{ClientID: w.client.ID, InternalID: w.staff.ID}}))
	w.do(oapiCall{method: "POST", path: rels, token: w.ownerTok, want: 409, body: app.RelationshipInput{ClientID: w.client.ID, InternalID: w.staff.ID}})
	w.do(oapiCall{method: "POST", path: rels, token: w.ownerTok, want: 400, body: app.RelationshipInput{ClientID: w.staff.ID, InternalID: w.client.ID}})
	w.do(oapiCall{method: "POST", path: rels, token: w.ownerTok, want: 400, body: app.RelationshipInput{ClientID: w.client.ID, InternalID: w.boss.ID}})
	w.do(oapiCall{method: "POST", path: rels, token: w.staffTok, want: 403, body: app.RelationshipInput{ClientID: w.client.ID, InternalID: w.staff.ID}})
	w.paginate(rels, nil, w.ownerTok, 1)
	w.do(oapiCall{method: "GET", path: rels, token: w.ownerTok, query: "client=" + w.client.ID, want: 200})
	w.do(oapiCall{method: "GET", path: rels, token: w.clientTok, want: 403})
	w.do(oapiCall{method: "GET", path: rels, token: w.ownerTok, query: "client=nope", want: 400, req: oapiReqInvalid})
	d := oapiDecode[atrium.ContactDecision](w.t, w.do(oapiCall{method: "GET", path: explain, token: w.ownerTok,
		query: "from=" + w.client.ID + "&to=" + w.staff.ID + "&action=see", want: 200}))
	if !d.Allowed || d.Rule != "relationship_manager" {
		w.t.Errorf("explain: %+v", d)
	}
	w.do(oapiCall{method: "GET", path: explain, token: w.ownerTok, query: "from=" + w.client.ID + "&to=" + w.staff.ID + "&action=wave", want: 400, req: oapiReqInvalid})
	w.do(oapiCall{method: "GET", path: explain, token: w.ownerTok, query: "from=" + w.client.ID + "&to=" + w.boss.ID + "&action=see", want: 400})
	w.do(oapiCall{method: "GET", path: explain, token: w.staffTok, query: "from=" + w.client.ID + "&to=" + w.staff.ID + "&action=see", want: 403})
	people := oapiDecode[httpapi.List[atrium.UserRef]](w.t, w.do(oapiCall{method: "GET", path: "/api/v1/directory", token: w.clientTok, want: 200}))
	ids := map[string]bool{}
	for _, p := range people.Items {
		ids[p.ID] = true
	}
	if !ids[w.client.ID] || !ids[w.staff.ID] || ids[w.owner.ID] || len(ids) != 2 {
		w.t.Errorf("a client's directory: %+v", people.Items)
	}
	w.do(oapiCall{method: "GET", path: "/api/v1/directory", token: w.ownerTok, query: "q=acme", want: 200})
	w.do(oapiCall{method: "DELETE", path: rel, args: []string{r.ID}, token: w.staffTok, want: 403})
	w.do(oapiCall{method: "DELETE", path: rel, args: []string{r.ID}, token: w.bossTok, want: 404})
	w.do(oapiCall{method: "DELETE", path: rel, args: []string{r.ID}, token: w.ownerTok, want: 204})
	w.do(oapiCall{method: "DELETE", path: rel, args: []string{r.ID}, token: w.ownerTok, want: 404})
}

// auditLog searches and exports the audit log.
func (w *oapiWorld) auditLog() {
	const search, export = "/api/v1/audit", "/api/v1/audit/export"
	data := w.do(oapiCall{method: "GET", path: search, token: w.ownerTok, query: "action=file.&binder=" + w.binder + "&limit=2", want: 200})
	page := oapiDecode[httpapi.List[atrium.AuditEntry]](w.t, data)
	if len(page.Items) != 2 || page.NextCursor == "" || page.Items[0].BinderID != w.binder || page.Items[0].Seq <= page.Items[1].Seq {
		w.t.Errorf("audit search: %s", data)
	}
	w.do(oapiCall{method: "GET", path: search, token: w.ownerTok, query: "cursor=" + page.NextCursor + "&q=pdf", want: 200})
	w.do(oapiCall{method: "GET", path: search, token: w.staffTok, want: 403})
	w.do(oapiCall{method: "GET", path: search, token: w.ownerTok, query: "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", want: 400, req: oapiReqAny})
	w.do(oapiCall{method: "GET", path: search, token: w.ownerTok, query: "from=yesterday", want: 400, req: oapiReqInvalid})
	csvData := w.do(oapiCall{method: "GET", path: export, token: w.ownerTok, query: "format=csv&action=message.post", want: 200})
	lines := strings.Split(strings.TrimSpace(string(csvData)), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "seq,id,created_at") || !strings.Contains(lines[1], "message.post") {
		w.t.Errorf("CSV export: %q", csvData)
	}
	jsonl := w.do(oapiCall{method: "GET", path: export, token: w.ownerTok, query: "actor=" + w.owner.ID, want: 200})
	for _, line := range strings.Split(strings.TrimSpace(string(jsonl)), "\n") {
		var e atrium.AuditEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.ActorID != w.owner.ID || e.Hash == "" {
			w.t.Errorf("JSON Lines export: %q, %v", line, err)
			break
		}
	}
	w.do(oapiCall{method: "GET", path: export, token: w.clientTok, want: 403})
	w.do(oapiCall{method: "GET", path: export, token: w.ownerTok, query: "format=xml", want: 400, req: oapiReqInvalid})
}

// permissions drives per-user feature permissions: an override takes
// effect at once, in /me too, and its refusals.
func (w *oapiWorld) permissions() {
	const perms = "/api/v1/users/{id}/permissions"
	put := func(token, id string, want int, req oapiReq, body any) []byte {
		w.t.Helper()
		return w.do(oapiCall{method: "PUT", path: perms, args: []string{id}, token: token, want: want, req: req, body: body})
	}
	p := oapiDecode[app.UserPermissions](w.t, put(w.ownerTok, w.staff.ID, 200, oapiReqValid, map[string]bool{"messages.post": false}))
	if p.Effective["messages.post"] || !p.Effective["files.upload"] || p.Overrides["messages.post"] {
		w.t.Errorf("permissions after PUT: %+v", p)
	}
	w.do(oapiCall{method: "POST", path: "/api/v1/binders/{id}/messages", args: []string{w.binder}, token: w.staffTok,
		body: app.PostMessageInput{Text: "muted"}, want: 403})
	me := oapiDecode[httpapi.MeResponse](w.t, w.do(oapiCall{method: "GET", path: "/api/v1/me", token: w.staffTok, want: 200}))
	if me.Features["messages.post"] || !me.Features["files.download"] {
		w.t.Errorf("features in /me: %v", me.Features)
	}
	w.do(oapiCall{method: "GET", path: perms, args: []string{w.staff.ID}, token: w.ownerTok, want: 200})
	w.do(oapiCall{method: "GET", path: perms, args: []string{w.staff.ID}, token: w.staffTok, want: 200})
	w.do(oapiCall{method: "GET", path: perms, args: []string{w.owner.ID}, token: w.staffTok, want: 403})
	w.do(oapiCall{method: "GET", path: perms, args: []string{w.staff.ID}, token: w.bossTok, want: 404})
	put(w.staffTok, w.client.ID, 403, oapiReqValid, map[string]bool{})
	put(w.ownerTok, w.staff.ID, 400, oapiReqInvalid, map[string]bool{"files.uplaod": false})
	put(w.ownerTok, w.staff.ID, 400, oapiReqInvalid, []string{"files.upload"})
	put(w.bossTok, w.staff.ID, 404, oapiReqValid, map[string]bool{})
	w.do(oapiCall{method: "PUT", path: perms, args: []string{w.staff.ID}, token: w.ownerTok, body: oapiRaw(`{}`), ctype: "text/plain", want: 415, req: oapiReqAny})
	put(w.ownerTok, w.staff.ID, 200, oapiReqValid, map[string]bool{})
	w.do(oapiCall{method: "POST", path: "/api/v1/binders/{id}/messages", args: []string{w.binder}, token: w.staffTok,
		body: app.PostMessageInput{Text: "back"}, want: 201})
}

// multipartFile is a multipart/form-data body with one file part, and its
// Content-Type.
func multipartFile(field, name string, content []byte) (oapiRaw, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": field, "filename": name}))
	h.Set("Content-Type", "application/octet-stream")
	part, _ := mw.CreatePart(h)
	part.Write(content)
	mw.Close()
	return oapiRaw(b.String()), mw.FormDataContentType()
}

// infected is a file the test scanner reports as malware.
var infected = []byte("a harmless test file with " + clamdtest.Marker + " in it")

func (w *oapiWorld) files() {
	const files = "/api/v1/binders/{id}/files"
	// Multipart requests are not checked against the document: its
	// validator reads only JSON bodies.
	upload := func(token, field, name string, content []byte, want int) []byte {
		w.t.Helper()
		body, ctype := multipartFile(field, name, content)
		return w.do(oapiCall{method: "POST", path: files, args: []string{w.binder}, token: token, body: body, ctype: ctype,
			want: want, req: oapiReqAny})
	}
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("contract "), 2000)...)
	f := oapiDecode[atrium.File](w.t, upload(w.staffTok, "file", "契約書 2026.pdf", pdf, 201))
	if f.ContentType != "application/pdf" || f.Size != int64(len(pdf)) || f.Name != "契約書 2026.pdf" {
		w.t.Errorf("uploaded %+v", f)
	}
	upload(w.clientTok, "file", "viewer.txt", []byte("x"), 403)
	upload(w.bossTok, "file", "outsider.txt", []byte("x"), 404)
	upload(w.staffTok, "other", "a.txt", []byte("x"), 400)
	for _, name := range []string{"../../etc/passwd", "a\x00b", "bell\a", strings.Repeat("n", 300)} {
		upload(w.staffTok, "file", name, []byte("x"), 400)
	}
	upload(w.staffTok, "file", "setup.exe", []byte("MZ"), 415)
	upload(w.staffTok, "file", "invoice.pdf", infected, 422)
	upload(w.staffTok, "file", "big.bin", make([]byte, 1<<20+1), 413)
	upload(w.staffTok, "file", "huge.bin", make([]byte, 2<<20), 413)
	w.do(oapiCall{method: "POST", path: files, args: []string{w.binder}, token: w.staffTok, body: oapiRaw(`{}`),
		want: 415, req: oapiReqInvalid})

	w.do(oapiCall{method: "GET", path: files, args: []string{w.binder}, token: w.clientTok, want: 200})
	w.do(oapiCall{method: "GET", path: files, args: []string{w.binder}, token: w.bossTok, want: 404})
	w.do(oapiCall{method: "GET", path: "/api/v1/files/{id}", args: []string{f.ID}, token: w.clientTok, want: 200})
	w.do(oapiCall{method: "GET", path: "/api/v1/files/{id}", args: []string{f.ID}, token: w.bossTok, want: 404})

	const content = "/api/v1/files/{id}/content"
	got := w.do(oapiCall{method: "GET", path: content, args: []string{f.ID}, token: w.clientTok, want: 200})
	if !bytes.Equal(got, pdf) {
		w.t.Errorf("downloaded %d bytes, not the %d uploaded", len(got), len(pdf))
	}
	got = w.do(oapiCall{method: "GET", path: content, args: []string{f.ID}, token: w.clientTok, want: 206,
		header: map[string]string{"Range": "bytes=9-16"}})
	if string(got) != "contract" {
		w.t.Errorf("range: %q", got)
	}
	w.do(oapiCall{method: "GET", path: content, args: []string{f.ID}, token: w.clientTok, want: 304,
		header: map[string]string{"If-None-Match": `"` + f.SHA256 + `"`}})
	w.do(oapiCall{method: "GET", path: content, args: []string{f.ID}, token: w.clientTok, want: 416,
		header: map[string]string{"Range": fmt.Sprintf("bytes=%d-", len(pdf)+10)}})
	w.do(oapiCall{method: "GET", path: content, args: []string{f.ID}, token: w.bossTok, want: 404})

	// Thumbnails: an image has one, the PDF none.
	var pic bytes.Buffer
	png.Encode(&pic, image.NewRGBA(image.Rect(0, 0, 300, 200)))
	img := oapiDecode[atrium.File](w.t, upload(w.staffTok, "file", "photo.png", pic.Bytes(), 201))
	const thumb = "/api/v1/files/{id}/thumbnail"
	w.do(oapiCall{method: "GET", path: thumb, args: []string{img.ID}, token: w.clientTok, want: 200})
	th := w.do(oapiCall{method: "GET", path: thumb, args: []string{img.ID}, token: w.clientTok, want: 200, header: map[string]string{"Range": "bytes=0-1"}})
	sum := sha256.Sum256(th)
	w.do(oapiCall{method: "GET", path: thumb, args: []string{img.ID}, token: w.clientTok, want: 304,
		header: map[string]string{"If-None-Match": `"` + hex.EncodeToString(sum[:]) + `"`}})
	w.do(oapiCall{method: "GET", path: thumb, args: []string{f.ID}, token: w.clientTok, want: 404})
	w.do(oapiCall{method: "GET", path: thumb, args: []string{img.ID}, token: w.bossTok, want: 404})

	// A resumable upload: started, half sent, asked, finished.
	w.resumable(f)

	// A message attaches the file.
	m := w.post(w.staffTok, 201, oapiReqValid, app.PostMessageInput{Text: "the contract", Attachments: []string{f.ID}}, nil)
	if len(m.Attachments) != 1 || m.Attachments[0] != f.ID {
		w.t.Errorf("attachments: %+v", m)
	}
	w.post(w.staffTok, 400, oapiReqValid, app.PostMessageInput{Text: "x", Attachments: []string{atrium.NewID()}}, nil)
	w.post(w.staffTok, 400, oapiReqInvalid, app.PostMessageInput{Text: "x", Attachments: []string{f.ID, f.ID}}, nil)

	// Versions.
	const versions = "/api/v1/files/{id}/versions"
	uploadVersion := func(token, field, name string, content []byte, want int) []byte {
		w.t.Helper()
		body, ctype := multipartFile(field, name, content)
		return w.do(oapiCall{method: "POST", path: versions, args: []string{f.ID}, token: token, body: body, ctype: ctype,
			want: want, req: oapiReqAny})
	}
	v2 := oapiDecode[atrium.File](w.t, uploadVersion(w.staffTok, "file", "契約書 v2.pdf", []byte("%PDF-1.7\nsecond"), 201))
	if v2.Version != 2 || v2.Name != f.Name {
		w.t.Errorf("new version: %+v", v2)
	}
	uploadVersion(w.clientTok, "file", "v.txt", []byte("x"), 403)
	uploadVersion(w.bossTok, "file", "v.txt", []byte("x"), 404)
	uploadVersion(w.staffTok, "nope", "v.txt", []byte("x"), 400)
	uploadVersion(w.staffTok, "file", "big.bin", make([]byte, 1<<20+1), 413)
	uploadVersion(w.staffTok, "file", "v.pdf", infected, 422)
	w.do(oapiCall{method: "POST", path: versions, args: []string{f.ID}, token: w.staffTok, body: oapiRaw(`{}`), want: 415, req: oapiReqInvalid})
	w.paginate(versions, []string{f.ID}, w.clientTok, 2)
	w.do(oapiCall{method: "GET", path: versions, args: []string{f.ID}, token: w.bossTok, want: 404})
	w.do(oapiCall{method: "GET", path: versions, args: []string{f.ID}, token: w.clientTok, query: "cursor=%21", want: 400, req: oapiReqInvalid})
	const vcontent = "/api/v1/files/{id}/versions/{version}/content"
	got = w.do(oapiCall{method: "GET", path: vcontent, args: []string{f.ID, "1"}, token: w.clientTok, want: 200})
	if !bytes.Equal(got, pdf) {
		w.t.Errorf("version 1: %d bytes", len(got))
	}
	w.do(oapiCall{method: "GET", path: vcontent, args: []string{f.ID, "1"}, token: w.clientTok, want: 206, header: map[string]string{"Range": "bytes=0-3"}})
	w.do(oapiCall{method: "GET", path: vcontent, args: []string{f.ID, "1"}, token: w.clientTok, want: 304,
		header: map[string]string{"If-None-Match": `"` + f.SHA256 + `"`}})
	w.do(oapiCall{method: "GET", path: vcontent, args: []string{f.ID, "1"}, token: w.clientTok, want: 416, header: map[string]string{"Range": "bytes=99999999-"}})
	w.do(oapiCall{method: "GET", path: vcontent, args: []string{f.ID, "3"}, token: w.clientTok, want: 404})
	w.do(oapiCall{method: "GET", path: vcontent, args: []string{f.ID, "1"}, token: w.bossTok, want: 404})

	// With files.download off for the client, nothing of the file is
	// served to them.
	w.do(oapiCall{method: "PUT", path: "/api/v1/users/{id}/permissions", args: []string{w.client.ID}, token: w.ownerTok,
		body: map[string]bool{"files.download": false}, want: 200})
	w.do(oapiCall{method: "GET", path: "/api/v1/files/{id}/content", args: []string{f.ID}, token: w.clientTok, want: 403})
	w.do(oapiCall{method: "GET", path: "/api/v1/files/{id}/thumbnail", args: []string{f.ID}, token: w.clientTok, want: 403})
	w.do(oapiCall{method: "GET", path: vcontent, args: []string{f.ID, "1"}, token: w.clientTok, want: 403})
	w.do(oapiCall{method: "PUT", path: "/api/v1/users/{id}/permissions", args: []string{w.client.ID}, token: w.ownerTok,
		body: map[string]bool{}, want: 200})
	w.do(oapiCall{method: "GET", path: vcontent, args: []string{f.ID, "1"}, token: w.clientTok, want: 200})

	// Rename, delete, restore.
	const file = "/api/v1/files/{id}"
	w.do(oapiCall{method: "PATCH", path: file, args: []string{f.ID}, token: w.staffTok, want: 200, body: map[string]string{"name": "署名済み.pdf"}})
	w.do(oapiCall{method: "PATCH", path: file, args: []string{f.ID}, token: w.staffTok, want: 400, body: map[string]string{"name": "a/b"}, req: oapiReqAny})
	w.do(oapiCall{method: "PATCH", path: file, args: []string{f.ID}, token: w.clientTok, want: 403, body: map[string]string{"name": "x.pdf"}})
	w.do(oapiCall{method: "PATCH", path: file, args: []string{f.ID}, token: w.bossTok, want: 404, body: map[string]string{"name": "x.pdf"}})
	w.do(oapiCall{method: "DELETE", path: file, args: []string{f.ID}, token: w.clientTok, want: 403})
	w.do(oapiCall{method: "DELETE", path: file, args: []string{f.ID}, token: w.bossTok, want: 404})
	const restore = "/api/v1/files/{id}/restore"
	w.do(oapiCall{method: "POST", path: restore, args: []string{f.ID}, token: w.ownerTok, want: 409})
	w.do(oapiCall{method: "DELETE", path: file, args: []string{f.ID}, token: w.staffTok, want: 204})
	w.do(oapiCall{method: "GET", path: file, args: []string{f.ID}, token: w.staffTok, want: 404})
	w.do(oapiCall{method: "POST", path: restore, args: []string{f.ID}, token: w.staffTok, want: 403})
	w.do(oapiCall{method: "POST", path: restore, args: []string{f.ID}, token: w.bossTok, want: 404})
	w.do(oapiCall{method: "POST", path: restore, args: []string{f.ID}, token: w.ownerTok, want: 200})
	w.do(oapiCall{method: "GET", path: file, args: []string{f.ID}, token: w.clientTok, want: 200})
}

func (w *oapiWorld) resumable(f atrium.File) {
	meta := func(name string) string { return "filename " + base64.StdEncoding.EncodeToString([]byte(name)) }
	start := func(path string, args []string, token string, hdr map[string]string, want int) []byte {
		w.t.Helper()
		return w.do(oapiCall{method: "POST", path: path, args: args, token: token, header: hdr, want: want, req: oapiReqAny})
	}
	const binderUploads, fileUploads, upload = "/api/v1/binders/{id}/uploads", "/api/v1/files/{id}/uploads", "/api/v1/uploads/{id}"
	body := bytes.Repeat([]byte("resumable "), 1000)
	u := oapiDecode[app.Upload](w.t, start(binderUploads, []string{w.binder}, w.staffTok,
		map[string]string{"Upload-Length": fmt.Sprint(len(body)), "Upload-Metadata": meta("長い記録.txt"), "Tus-Resumable": "1.0.0"}, 201))
	start(binderUploads, []string{w.binder}, w.staffTok, map[string]string{"Upload-Length": "10", "Upload-Metadata": meta("a.txt"), "Tus-Resumable": "2.0.0"}, 412)
	start(binderUploads, []string{w.binder}, w.staffTok, map[string]string{"Upload-Length": "ten", "Upload-Metadata": meta("a.txt")}, 400)
	start(binderUploads, []string{w.binder}, w.staffTok, map[string]string{"Upload-Length": "10", "Upload-Metadata": meta("a.exe")}, 415)
	start(binderUploads, []string{w.binder}, w.staffTok, map[string]string{"Upload-Length": "99999999999", "Upload-Metadata": meta("a.bin")}, 413)
	start(binderUploads, []string{w.binder}, w.clientTok, map[string]string{"Upload-Length": "10", "Upload-Metadata": meta("a.txt")}, 403)
	start(binderUploads, []string{w.binder}, w.bossTok, map[string]string{"Upload-Length": "10", "Upload-Metadata": meta("a.txt")}, 404)
	patch := func(id, token, offset string, data []byte, ctype string, want int) {
		w.t.Helper()
		w.do(oapiCall{method: "PATCH", path: upload, args: []string{id}, token: token, body: oapiRaw(data), ctype: ctype,
			header: map[string]string{"Upload-Offset": offset, "Tus-Resumable": "1.0.0"}, want: want, req: oapiReqAny})
	}
	const octets = "application/offset+octet-stream"
	patch(u.ID, w.staffTok, "0", body[:4000], octets, 204)
	w.do(oapiCall{method: "HEAD", path: upload, args: []string{u.ID}, token: w.staffTok, want: 200})
	w.do(oapiCall{method: "HEAD", path: upload, args: []string{u.ID}, token: w.clientTok, want: 404})
	patch(u.ID, w.staffTok, "0", body[4000:], octets, 409)
	patch(u.ID, w.staffTok, "x", body[4000:], octets, 400)
	patch(u.ID, w.staffTok, "4000", body[4000:], "application/octet-stream", 415)
	patch(u.ID, w.staffTok, "4000", append(bytes.Clone(body[4000:]), 'x'), octets, 413)
	patch(u.ID, w.bossTok, "4000", body[4000:], octets, 404)
	patch(u.ID, w.staffTok, "4000", body[4000:], octets, 204)
	w.do(oapiCall{method: "HEAD", path: upload, args: []string{u.ID}, token: w.staffTok, want: 404})

	bad := oapiDecode[app.Upload](w.t, start(binderUploads, []string{w.binder}, w.staffTok,
		map[string]string{"Upload-Length": fmt.Sprint(len(infected)), "Upload-Metadata": meta("scan.pdf")}, 201))
	patch(bad.ID, w.staffTok, "0", infected, octets, 422)
	w.do(oapiCall{method: "HEAD", path: upload, args: []string{bad.ID}, token: w.staffTok, want: 404})

	v := oapiDecode[app.Upload](w.t, start(fileUploads, []string{f.ID}, w.staffTok,
		map[string]string{"Upload-Length": "5", "Upload-Metadata": meta("v3.pdf")}, 201))
	start(fileUploads, []string{f.ID}, w.bossTok, map[string]string{"Upload-Length": "5", "Upload-Metadata": meta("v3.pdf")}, 404)
	start(fileUploads, []string{f.ID}, w.clientTok, map[string]string{"Upload-Length": "5", "Upload-Metadata": meta("v3.pdf")}, 403)
	start(fileUploads, []string{f.ID}, w.staffTok, map[string]string{"Upload-Length": "5"}, 400)
	start(fileUploads, []string{f.ID}, w.staffTok, map[string]string{"Upload-Length": "5", "Upload-Metadata": meta("v3.pdf"), "Tus-Resumable": "0.2.2"}, 412)
	start(fileUploads, []string{f.ID}, w.staffTok, map[string]string{"Upload-Length": "99999999999", "Upload-Metadata": meta("v3.pdf")}, 413)
	start(fileUploads, []string{f.ID}, w.staffTok, map[string]string{"Upload-Length": "5", "Upload-Metadata": meta("v3.scr")}, 415)
	w.do(oapiCall{method: "DELETE", path: upload, args: []string{v.ID}, token: w.clientTok, want: 404})
	w.do(oapiCall{method: "DELETE", path: upload, args: []string{v.ID}, token: w.staffTok, want: 204})
}

// refusals sends every operation the refusals its handler shares with
// others: missing or malformed credentials, bodies of another type, too
// large or malformed, page sizes out of range and malformed query strings.
func (w *oapiWorld) refusals() {
	paths := w.spec.doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	huge := oapiRaw(`{"x":"` + strings.Repeat("z", 600<<10) + `"}`)
	for _, path := range paths {
		item := w.spec.doc.Paths.Value(path)
		methods := make([]string, 0, len(item.Operations()))
		for m := range item.Operations() {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, method := range methods {
			op := item.GetOperation(method)
			args := make([]string, len(oapiWildcard.FindAllString(path, -1)))
			for i := range args {
				args[i] = atrium.NewID()
			}
			call := func(c oapiCall) {
				w.t.Helper()
				c.method, c.path, c.args = method, path, args
				w.do(c)
			}
			if op.Security == nil || len(*op.Security) > 0 {
				call(oapiCall{want: 401, req: oapiReqInvalid})
				call(oapiCall{want: 401, req: oapiReqInvalid, header: map[string]string{"Authorization": "Basic b3duZXI6cHc="}})
				call(oapiCall{want: 401, token: "not-a-token-at-all", req: oapiReqAny})
			}
			if op.RequestBody != nil && op.RequestBody.Value.Content.Get("application/json") != nil { // files() checks uploads
				call(oapiCall{token: w.ownerTok, body: oapiRaw(`{}`), ctype: "text/plain", want: 415, req: oapiReqInvalid})
				call(oapiCall{token: w.ownerTok, body: huge, want: 413, req: oapiReqInvalid})
				call(oapiCall{token: w.ownerTok, body: oapiRaw(`{"`), want: 400, req: oapiReqInvalid})
				call(oapiCall{token: w.ownerTok, body: oapiRaw(`[]`), want: 400, req: oapiReqInvalid})
				call(oapiCall{token: w.ownerTok, body: oapiRaw(`{} {}`), want: 400, req: oapiReqAny})
			}
			if len(args) > 0 {
				args[0] = w.binder
			}
			if op.Parameters.GetByInAndName("query", "limit") != nil {
				call(oapiCall{token: w.ownerTok, query: "limit=500", want: 400, req: oapiReqInvalid})
				call(oapiCall{token: w.ownerTok, query: "limit=ten", want: 400, req: oapiReqInvalid})
			}
			if method == "GET" && len(op.Parameters) > len(args) { // it reads a query string
				call(oapiCall{token: w.ownerTok, query: "limit=1&%zz", want: 400, req: oapiReqAny})
			}
		}
	}
}

func (w *oapiWorld) coverage() {
	// Answers the document rightly lists that this test cannot provoke.
	unreached := map[string]string{
		"POST /api/v1/binders/{id}/messages 409":       "two posts with one client_key racing on PostgreSQL",
		"GET /api/v1/events 410":                       "a cursor older than the events kept; TestOldEventsArePrunedAndOldCursorsAreGone provokes it",
		"GET /api/v1/events 429":                       "a session's seventeenth open stream; TestStreamsPerSessionAreLimited provokes it",
		"POST /api/v1/files/{id}/restore 410":          "a restore after the retention period; TestFileRestoreEndsWithRetention provokes it",
		"GET /api/v1/me/exports/{id}/content 410":      "an export whose preparation failed; the archive is written by the server itself",
		"POST /api/v1/auth/sso/signature 429":          "the per-address throttle of failed sign-ins; TestSignatureSSOThrottled provokes it",
		"POST /api/v1/auth/mfa 429":                    "the per-user throttle of wrong second factors; TestSecondFactorThrottled provokes it",
		"POST /api/v1/me/mfa/disable 429":              "wrong passwords when turning MFA off; TestSecondFactorThrottled provokes it",
		"POST /api/v1/me/mfa/webauthn/register 409":    "a user's twenty-first passkey; TestPasskeyLimit provokes it",
		"POST /api/v1/me/mfa/webauthn 429":             "the password check every change of second factors shares; TestSecondFactorThrottled provokes it",
		"POST /api/v1/me/mfa/webauthn/{id}/remove 429": "the same shared password check; TestSecondFactorThrottled provokes it",
		"DELETE /api/v1/oauth-grants/{id} 204":         "a grant comes from the browser consent flow; TestOAuthRefusals revokes one",
		"DELETE /api/v1/me/oauth-grants/{id} 204":      "a grant comes from the browser consent flow; TestOAuthRefusals revokes one",
		"GET /api/v1/auth/saml/{id}/slo 302":           "a logout request needs an IdP session of a signed-in user; TestSAMLLogin drives one",
		"POST /api/v1/auth/saml/{id}/slo 302":          "the IdP of the tests sends logout requests by HTTP-Redirect (the GET); the POST binding is the SAML library's",
		"POST /api/v1/me/mfa/totp/confirm 429":         "as above",
		"GET /api/v1/me/device-key 410":                "a session opened before device keys existed; logout and wipe end the session, which answers 401",
	}
	var missing []string
	for path, item := range w.spec.doc.Paths.Map() {
		for method, op := range item.Operations() {
			for key := range op.Responses.Map() {
				k := method + " " + path + " " + key
				if key == "5XX" {
					continue
				}
				if _, ok := unreached[k]; ok {
					delete(unreached, k)
					continue
				}
				if !w.seen[k] {
					missing = append(missing, k)
				}
			}
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		w.t.Errorf("documented answer never checked: %s (provoke it here, or say why it cannot be)", k)
	}
	for k := range unreached {
		w.t.Errorf("%s is listed as unreachable but is not in the document", k)
	}
}

// oapiStreamStart is the cursor before every event.
const oapiStreamStart = "AAAAAAAAAAAAAAAAAAAAAA"

func oapiHeaders(sets ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		for k, v := range s {
			out[k] = v
		}
	}
	return out
}

func (w *oapiWorld) events() {
	const events = "/api/v1/events"
	upgrade := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"}
	key := map[string]string{"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
	get := func(c oapiCall) {
		w.t.Helper()
		c.method, c.path = "GET", events
		w.do(c)
	}
	get(oapiCall{token: w.ownerTok, want: 400})
	get(oapiCall{token: w.ownerTok, header: oapiHeaders(upgrade, key), query: "since=abc", want: 400, req: oapiReqInvalid})
	get(oapiCall{token: w.ownerTok, header: oapiHeaders(upgrade, key), query: "since=AAAAAAAAAAB__________w", want: 400})
	get(oapiCall{token: w.ownerTok, header: upgrade, want: 400})
	get(oapiCall{token: w.ownerTok, header: oapiHeaders(upgrade, key, map[string]string{"Origin": "https://elsewhere.example"}), want: 403})
	get(oapiCall{header: oapiHeaders(upgrade, key, map[string]string{"Cookie": "atrium_session=not-a-token"}), want: 401})
	w.http10(oapiCall{method: "GET", path: events, token: w.ownerTok, header: oapiHeaders(upgrade, key), want: 426})

	// The web app's cookie opens the stream too.
	conn := w.dial("", http.Header{"Cookie": {"atrium_session=" + w.ownerTok}})
	conn.Close(websocket.StatusNormalClosure, "")

	// Replay from the start: every event of the test the owner may see,
	// then a live one.
	conn = w.dial("since="+oapiStreamStart, http.Header{"Authorization": {"Bearer " + w.ownerTok}})
	defer conn.Close(websocket.StatusNormalClosure, "")
	marker := w.post(w.ownerTok, 201, oapiReqValid, app.PostMessageInput{Text: "Marker"}, nil)
	seen := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			w.t.Fatalf("read the event stream: %v (types seen: %v)", err, seen)
		}
		if typ != websocket.MessageText {
			w.t.Errorf("a binary frame: %x", data)
		}
		if err := w.spec.checkFrame(data); err != nil {
			w.t.Errorf("a frame does not match the document: %v\nframe: %.500s", err, data)
		}
		var f struct {
			Type    string `json:"type"`
			Message struct {
				ID string `json:"id"`
			} `json:"message"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			w.t.Fatalf("frame: %v", err)
		}
		seen[f.Type] = true
		if f.Type == atrium.EventMessageCreated && f.Message.ID == marker.ID {
			break
		}
	}
	for _, typ := range []string{atrium.EventMessageCreated, atrium.EventMessageEdited, atrium.EventMessageDeleted,
		atrium.EventMemberAdded, atrium.EventMemberRemoved, atrium.EventBinderCreated, atrium.EventBinderUpdated,
		atrium.EventBinderDeleted, atrium.EventReadUpdated, atrium.EventFileCreated, atrium.EventFileUpdated,
		atrium.EventFileDeleted, atrium.EventFileRestored} {
		if !seen[typ] {
			w.t.Errorf("no %s frame was checked", typ)
		}
	}
}

// dial opens the event stream, checking the handshake against the
// document.
func (w *oapiWorld) dial(query string, header http.Header) *websocket.Conn {
	w.t.Helper()
	const events = "/api/v1/events"
	route := w.route("GET", events)
	req, params, _ := w.request(oapiCall{method: "GET", path: events, query: query})
	for k, v := range header {
		req.Header[k] = v
	}
	label := "GET " + req.URL.RequestURI() + " (WebSocket)"
	w.checkRequest(label, oapiReqValid, route, req, params, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(req.URL.String(), "http"),
		&websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		w.t.Fatalf("%s: %v", label, err)
	}
	w.checkResponse(label, route, req, resp.StatusCode, resp.Header, nil)
	conn.SetReadLimit(1 << 20)
	return conn
}

// http10 sends a call as HTTP/1.0, which the standard client cannot.
func (w *oapiWorld) http10(c oapiCall) {
	w.t.Helper()
	route := w.route(c.method, c.path)
	req, params, _ := w.request(c)
	label := c.method + " " + req.URL.RequestURI() + " (HTTP/1.0)"
	w.checkRequest(label, c.req, route, req, params, nil)
	nc, err := net.Dial("tcp", w.srv.Addr())
	if err != nil {
		w.t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.0\r\nHost: %s\r\n", c.method, req.URL.RequestURI(), w.srv.Addr())
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	head.WriteString("\r\n")
	if _, err := io.WriteString(nc, head.String()); err != nil {
		w.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), req)
	if err != nil {
		w.t.Fatalf("%s: %v", label, err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != c.want {
		w.t.Errorf("%s: status %d, want %d: %.300s", label, resp.StatusCode, c.want, data)
	}
	w.checkResponse(label, route, req, resp.StatusCode, resp.Header, data)
}
