package pebble

import "encoding/binary"

// The first byte of a key names its kind; see the package comment.
const (
	kindLatest     = 'c'
	kindCheckpoint = 'h'
	kindTile       = 't'
	kindBundle     = 'b'
	kindDedup      = 'd'
	kindRow        = 'r'
)

// Limits of the key layout: a tile level and a table name's length must fit
// its fields; a chunk's start too.
const (
	maxLevel      = 0xff
	maxChunkStart = 0xffff
	maxTableLen   = 0xffff
)

var latestKey = []byte{kindLatest}

func checkpointKey(size uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{kindCheckpoint}, size)
}

func tileKey(level int, n uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{kindTile, byte(level)}, n)
}

func bundleKey(n uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, 11), kindBundle), n)
}

func chunkKey(n uint64, start int) []byte {
	return binary.BigEndian.AppendUint16(bundleKey(n), uint16(start))
}

// appendDedupKey appends the key of dedup key k to b.
func appendDedupKey(b, k []byte) []byte {
	return append(append(b, kindDedup), k...)
}

func rowPrefix(table string) []byte {
	p := make([]byte, 0, 3+len(table))
	p = append(p, kindRow)
	p = binary.BigEndian.AppendUint16(p, uint16(len(table)))
	return append(p, table...)
}

// appendRowKey appends the key of row (table, key) to b.
func appendRowKey(b []byte, table string, key []byte) []byte {
	b = append(b, kindRow)
	b = binary.BigEndian.AppendUint16(b, uint16(len(table)))
	return append(append(b, table...), key...)
}

// prefixEnd returns the least key greater than every key starting with p,
// or nil if there is none.
func prefixEnd(p []byte) []byte {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0xff {
			end := append([]byte(nil), p[:i+1]...)
			end[i]++
			return end
		}
	}
	return nil
}
