package exports

import (
	"encoding/base64"
	"encoding/binary"

	flatbuffers "github.com/google/flatbuffers/go"
)

// ArrowSchemaKey is the Parquet footer key under which Arrow writers keep
// the Arrow schema of the file, and Arrow readers (arrow-go's pqarrow,
// pyarrow, and through them pandas and polars) take field metadata from.
const ArrowSchemaKey = "ARROW:schema"

// arrowSchema encodes the Arrow schema of t with each field's metadata
// (fieldMeta, by column) as Arrow writers store it in a Parquet file: the
// IPC stream of a single Schema message (format/Schema.fbs and
// Message.fbs of the Arrow specification, metadata version V5), base64.
// Parquet itself has no per-column key/value metadata; this is how the
// Arrow world carries it.
func arrowSchema(t *Table, fieldMeta func(*Column) map[string]string) string {
	b := flatbuffers.NewBuilder(1024)
	fields := make([]flatbuffers.UOffsetT, len(t.Columns))
	for i, c := range t.Columns {
		fields[i] = arrowField(b, c, fieldMeta(c))
	}
	b.StartVector(4, len(fields), 4)
	for i := len(fields) - 1; i >= 0; i-- {
		b.PrependUOffsetT(fields[i])
	}
	fv := b.EndVector(len(fields))
	// table Schema { endianness: Endianness (0 = Little); fields: [Field]; … }
	b.StartObject(4)
	b.PrependUOffsetTSlot(1, fv, 0)
	schema := b.EndObject()
	// table Message { version: MetadataVersion; header: MessageHeader; bodyLength: long; … }
	const metadataV5, headerSchema = 4, 1
	b.StartObject(5)
	b.PrependUOffsetTSlot(2, schema, 0)
	b.PrependInt16Slot(0, metadataV5, 0)
	b.PrependByteSlot(1, headerSchema, 0)
	msg := b.EndObject()
	b.Finish(msg)
	body := b.FinishedBytes()
	// Encapsulated message: continuation marker, length (padded so the
	// message ends on 8 bytes), flatbuffer, padding; then end of stream.
	pad := (8 - (8+len(body))%8) % 8
	out := make([]byte, 0, 8+len(body)+pad+8)
	out = binary.LittleEndian.AppendUint32(out, 0xFFFFFFFF)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body)+pad))
	out = append(out, body...)
	out = append(out, make([]byte, pad)...)
	out = binary.LittleEndian.AppendUint32(out, 0xFFFFFFFF)
	out = binary.LittleEndian.AppendUint32(out, 0)
	return base64.StdEncoding.EncodeToString(out)
}

// Arrow's Type union (format/Schema.fbs).
const (
	arrowInt           = 2
	arrowFloatingPoint = 3
	arrowUtf8          = 5
	arrowBool          = 6
	arrowDate          = 8
)

// arrowField writes table Field { name; nullable; type_type; type;
// dictionary; children; custom_metadata } for c, with the Arrow type that
// Parquet's own type maps to (INT64 → int64, DOUBLE → float64, UTF8 →
// utf8, BOOLEAN → bool, DATE → date32[day]).
func arrowField(b *flatbuffers.Builder, c *Column, meta map[string]string) flatbuffers.UOffsetT {
	name := b.CreateString(c.Name)
	var kvs []flatbuffers.UOffsetT
	for _, k := range sortedKeys(meta) {
		ko, vo := b.CreateString(k), b.CreateString(meta[k])
		b.StartObject(2) // table KeyValue { key: string; value: string }
		b.PrependUOffsetTSlot(0, ko, 0)
		b.PrependUOffsetTSlot(1, vo, 0)
		kvs = append(kvs, b.EndObject())
	}
	b.StartVector(4, len(kvs), 4)
	for i := len(kvs) - 1; i >= 0; i-- {
		b.PrependUOffsetT(kvs[i])
	}
	kv := b.EndVector(len(kvs))
	b.StartVector(4, 0, 4)
	children := b.EndVector(0)

	var typeType byte
	var typ flatbuffers.UOffsetT
	switch c.Type {
	case Int:
		typeType = arrowInt
		b.StartObject(2) // table Int { bitWidth: int; is_signed: bool }
		b.PrependInt32Slot(0, 64, 0)
		b.PrependBoolSlot(1, true, false)
		typ = b.EndObject()
	case Float:
		typeType = arrowFloatingPoint
		b.StartObject(1) // table FloatingPoint { precision: Precision (DOUBLE = 2) }
		b.PrependInt16Slot(0, 2, 0)
		typ = b.EndObject()
	case Bool:
		typeType = arrowBool
		b.StartObject(0)
		typ = b.EndObject()
	case Date:
		typeType = arrowDate
		b.StartObject(1) // table Date { unit: DateUnit = MILLISECOND (1); DAY = 0 }
		b.PrependInt16Slot(0, 0, 1)
		typ = b.EndObject()
	default:
		typeType = arrowUtf8
		b.StartObject(0)
		typ = b.EndObject()
	}
	b.StartObject(7)
	b.PrependUOffsetTSlot(0, name, 0)
	b.PrependUOffsetTSlot(3, typ, 0)
	b.PrependUOffsetTSlot(5, children, 0)
	b.PrependUOffsetTSlot(6, kv, 0)
	b.PrependBoolSlot(1, c.Nullable || c.Valid != nil, false)
	b.PrependByteSlot(2, typeType, 0)
	return b.EndObject()
}
