package mongodb

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/dotm-survey/dotm"
)

// TestFormVersionMedia: a version's media files are stored with it and
// read back byte for byte; the listing gives their names and hashes
// without the bytes; the version with its files cannot be replaced.
func TestFormVersionMedia(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	csv := []byte("name,label,population\nkal,Kalamu,120\n")
	bin := []byte{0, 1, 2, 0xff, 0xfe}
	v := dotm.FormVersion{FormID: "hh", Version: "1", Survey: "gh", Format: "xlsx", JSON: []byte(`{}`), ETag: `"e"`,
		UploadedAt: time.Now().UTC().Truncate(time.Millisecond), UploadedBy: "ana",
		Media: []dotm.MediaFile{
			{Name: "logo.png", ContentType: "image/png", MD5: "m1", Size: len(bin), Data: bin},
			{Name: "towns.csv", ContentType: "text/csv", MD5: "m2", Size: len(csv), Data: csv},
		},
		MissingMedia: []string{"prices.csv"}}
	if err := s.AddFormVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	got, err := s.FormVersion(ctx, "hh", "1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Media) != 2 || !bytes.Equal(got.Media[0].Data, bin) || !bytes.Equal(got.Media[1].Data, csv) ||
		got.Media[1].Name != "towns.csv" || got.Media[1].MD5 != "m2" || got.Media[1].Size != len(csv) || got.Media[0].ContentType != "image/png" ||
		len(got.MissingMedia) != 1 || got.MissingMedia[0] != "prices.csv" {
		t.Fatalf("read back %+v", got)
	}
	list, err := s.FormVersions(ctx, "hh", "")
	if err != nil || len(list) != 1 || len(list[0].Media) != 2 {
		t.Fatalf("list %+v %v", list, err)
	}
	for _, m := range list[0].Media {
		if m.Data != nil || m.MD5 == "" || m.Size == 0 {
			t.Errorf("listed media %+v: want name and hash without data", m)
		}
	}
	v.Media = v.Media[:1]
	if err := s.AddFormVersion(ctx, v); dotm.ErrorCode(err) != dotm.ECONFLICT {
		t.Fatalf("second add: %v, want conflict", err)
	}
	if got, _ := s.FormVersion(ctx, "hh", "1"); len(got.Media) != 2 {
		t.Fatalf("the stored version changed: %+v", got.Media)
	}
}
