package main

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

func count(s, chars string) int {
	n := 0
	for _, c := range s {
		if strings.ContainsRune(chars, c) {
			n++
		}
	}
	return n
}

func TestPasswordHonoursMinimumsClassesAndLength(t *testing.T) {
	inputs, failures := checkPassword(resource.PropertyMap{
		"length": resource.NewProperty(30.0), "minUpper": resource.NewProperty(5.0),
		"minNumeric": resource.NewProperty(4.0), "minSpecial": resource.NewProperty(3.0),
		"lower": resource.NewProperty(false), "overrideSpecial": resource.NewProperty("!#"),
	})
	if len(failures) > 0 {
		t.Fatalf("unexpected failures: %v", failures)
	}
	for range 5 {
		out, err := generatePassword(inputs)
		if err != nil {
			t.Fatal(err)
		}
		pw := out["result"].StringValue()
		if len(pw) != 30 || count(pw, upperChars) < 5 || count(pw, numericChars) < 4 || count(pw, "!#") < 3 {
			t.Fatalf("password %q breaks length 30 / minUpper 5 / minNumeric 4 / minSpecial 3", pw)
		}
		if count(pw, lowerChars) != 0 || count(pw, upperChars+numericChars+"!#") != 30 {
			t.Fatalf("password %q uses a disabled class or a special outside overrideSpecial", pw)
		}
		if bcrypt.CompareHashAndPassword([]byte(out["bcryptHash"].StringValue()), []byte(pw)) != nil {
			t.Fatalf("bcryptHash does not verify %q", pw)
		}
	}
	if !inputs["upper"].BoolValue() || !inputs["numeric"].BoolValue() || !inputs["number"].BoolValue() {
		t.Fatalf("defaults not applied: %v", inputs)
	}
}

func TestPasswordCheckRejectsImpossibleInputs(t *testing.T) {
	cases := map[string]resource.PropertyMap{
		"length":   {"minUpper": resource.NewProperty(1.0)},
		"minLower": {"length": resource.NewProperty(4.0), "minLower": resource.NewProperty(-1.0)},
	}
	for property, inputs := range cases {
		_, failures := checkPassword(inputs)
		if len(failures) != 1 || failures[0].GetProperty() != property {
			t.Errorf("%v: want one failure on %s, got %v", inputs, property, failures)
		}
	}
	_, failures := checkPassword(resource.PropertyMap{
		"length": resource.NewProperty(3.0), "minUpper": resource.NewProperty(2.0), "minNumeric": resource.NewProperty(2.0),
	})
	if len(failures) != 1 || !strings.Contains(failures[0].GetReason(), "must be >=") {
		t.Errorf("length below the minimums: got %v", failures)
	}
	// An unknown length (preview) is not an error.
	_, failures = checkPassword(resource.PropertyMap{"length": resource.MakeComputed(resource.NewProperty(""))})
	if len(failures) != 0 {
		t.Errorf("unknown length: got %v", failures)
	}
}

func TestBytesEncodingsAgree(t *testing.T) {
	out, err := generateBytes(resource.PropertyMap{"length": resource.NewProperty(48.0)})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(out["base64"].StringValue())
	if err != nil || len(raw) != 48 || hex.EncodeToString(raw) != out["hex"].StringValue() {
		t.Fatalf("base64 %q and hex %q are not the same 48 bytes", out["base64"].StringValue(), out["hex"].StringValue())
	}
	if _, failures := checkBytes(resource.PropertyMap{"length": resource.NewProperty(0.0)}); len(failures) != 1 {
		t.Fatalf("length 0 must fail, got %v", failures)
	}
}
