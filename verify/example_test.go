package verify_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/pledgelog/pledgelog/verify"
)

// A client checks a checkpoint against its policy: the log's key and a
// quorum of witnesses.
func Example() {
	msg := []byte(`example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa eFoNpCmkJXUlTGQ6hUJ3IhXSb/d/0fjUZVhnDc4A+XCGqJNwpJb+vME+PQnY+APfhH0JTcDCQScMvX1rLoA9gfUZkQU=
— witness.example.com/w1 Jhr7iwAAAABkGFDLbtAmaFn7GRqIFfQKf5U3ThEUjCbV6mY559WM5GA9VJfwcLT4SUVi1hnOy+0h4YEfeNXxD3FgSih8U71j/nxyCw==
`)
	logKey, err := verify.NewVerifier("example.com/behind-the-sofa+785a0da4+AaxMR+jgU7jquHw1bVYLFlbKP1dMJpUPvz2B2VXlckTA")
	if err != nil {
		log.Fatal(err)
	}
	witness, err := verify.NewVerifier("witness.example.com/w1+261afb8b+BJDv2HnWEc4IFq3bpKSLT9dcie6/ToZYVGqODIfVebBC")
	if err != nil {
		log.Fatal(err)
	}
	c, n, err := verify.OpenCheckpoint(msg, "example.com/behind-the-sofa",
		[]verify.Verifier{logKey}, []verify.Verifier{witness}, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s has %d entries, root %v\n", c.Origin, c.Size, c.Root)
	t, err := verify.CosignatureTime(n.Sigs[1].Sig)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("cosigned by %s at %v\n", n.Sigs[1].Name, t)
	// Output:
	// example.com/behind-the-sofa has 20852163 entries, root CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
	// cosigned by witness.example.com/w1 at 2023-03-20 12:25:47 +0000 UTC
}

// A log signs its checkpoint, and a witness cosigns it.
func ExampleSign() {
	logKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	witnessKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize))
	const origin = "log.example.org/tech-accord"
	fmt.Println(verify.Ed25519VerifierKey(origin, logKey.Public().(ed25519.PublicKey)))

	c := verify.Checkpoint{Origin: origin, Size: 1, Root: verify.LeafHash([]byte("hello"))}
	logSigner := verify.NewEd25519Signer(origin, logKey)
	witness := verify.NewCosigner("witness.example", witnessKey,
		func() time.Time { return time.Unix(1750000000, 0) })
	msg, err := verify.Sign(c.Text(), logSigner, witness)
	if err != nil {
		log.Fatal(err)
	}
	os.Stdout.Write(msg)
	// Output:
	// log.example.org/tech-accord+0c7c46db+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c
	// log.example.org/tech-accord
	// 1
	// iipcm3aIJ95alVLDigRMZpWcaPbS8htSYK9U0vh9uCc=
	//
	// — log.example.org/tech-accord DHxG29vB+DwTmZo+deNBsxniYT9ALT5wXMp2rpAYLMV7UvGJcDbGBMbLVIp5y5+/rZPlJWttODEuJnugSmx7kEpTtQk=
	// — witness.example MXa9RQAAAABoTuGATn8ythcPzwFcdzMzNUmLMjUjkHLaEElXlIxpYmQo2ZP0kKFAYSVZFBcSS7AxvZT0hcJcJdBLhU3JF7CtfP9cDw==
}

// Open verifies the example of c2sp.org/signed-note.
func ExampleOpen() {
	v, err := verify.NewVerifier("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
	if err != nil {
		log.Fatal(err)
	}
	msg := []byte("This is an example message.\n\n" +
		"— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")
	n, err := verify.Open(msg, v)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s+%08x signed %q\n", n.Sigs[0].Name, n.Sigs[0].KeyID, n.Text)
	// Output:
	// example.com/foo+530d903a signed "This is an example message.\n"
}

func ExampleParseCheckpoint() {
	c, err := verify.ParseCheckpoint([]byte("log.example.org/tech-accord\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Origin, c.Size, c.Root == verify.EmptyRoot)
	_, err = verify.ParseCheckpoint([]byte("log.example.org/tech-accord\n007\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"))
	fmt.Println(err)
	// Output:
	// log.example.org/tech-accord 0 true
	// size "007": malformed checkpoint
}

func ExampleParseTilePath() {
	for _, path := range []string{"tile/0/x001/x234/067", "tile/entries/273.p/112", "tile/1/000.p/256"} {
		t, err := verify.ParseTilePath(path)
		fmt.Printf("%+v %v\n", t, err)
	}
	// Output:
	// {Level:0 N:1234067 Width:256} <nil>
	// {Level:-1 N:273 Width:112} <nil>
	// {Level:0 N:0 Width:0} "tile/1/000.p/256": bad width: malformed tile path
}

func ExampleTilesForSize() {
	for _, t := range verify.TilesForSize(257) {
		fmt.Println(t.Path())
	}
	// Output:
	// tile/0/000
	// tile/0/001.p/1
	// tile/entries/000
	// tile/entries/001.p/1
	// tile/1/000.p/1
}

// A log proves that an entry is in its tree, from its tiles; a client
// checks the proof against the root of a checkpoint.
func ExampleProveInclusion() {
	var tile []byte // level-0 tile 0 of a tree of three entries
	for _, e := range []string{"one", "two", "three"} {
		h := verify.LeafHash([]byte(e))
		tile = append(tile, h[:]...)
	}
	tiles := verify.TileReaderFunc(func(_ context.Context, t verify.Tile) ([]byte, error) {
		if t.Level != 0 || t.N != 0 || t.Width > 3 {
			return nil, fmt.Errorf("no tile %s", t.Path())
		}
		return tile, nil
	})
	ctx := context.Background()
	root, err := verify.TreeRoot(ctx, tiles, 3)
	if err != nil {
		log.Fatal(err)
	}
	proof, err := verify.ProveInclusion(ctx, tiles, 2, 3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(root, proof)
	fmt.Println(verify.Inclusion(verify.LeafHash([]byte("three")), 2, 3, proof, root))
	fmt.Println(verify.Inclusion(verify.LeafHash([]byte("four")), 2, 3, proof, root))
	// Output:
	// Wqx3HImawpLnS/Gv4ubjAvi1WIOy0b8Ze0amvqbavKk= [T1X2GdkhUjV3iyufF9b0kVsWFxIU0VI4EpNml2Teci4=]
	// <nil>
	// proof leads to root nIVeLLPW2iLPFMbnYfYQMSZJ/gcmoSYDJ0TsE54s9L8= for size 3, want Wqx3HImawpLnS/Gv4ubjAvi1WIOy0b8Ze0amvqbavKk=
}

func ExampleParseBundle() {
	var bundle []byte
	for _, e := range []string{"one", "two", "three"} {
		bundle, _ = verify.AppendBundleEntry(bundle, []byte(e))
	}
	fmt.Printf("% x\n", bundle)
	entries, err := verify.ParseBundle(bundle)
	fmt.Printf("%q %v\n", entries, err)
	// Output:
	// 00 03 6f 6e 65 00 03 74 77 6f 00 05 74 68 72 65 65
	// ["one" "two" "three"] <nil>
}
