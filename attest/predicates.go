package attest

// RegistrarID is the principal name of the registrar: the signer of
// genesis, rotate, accord, register and recover events, and the JWT issuer
// of registrar tokens. It is reserved: no signatory may use it.
const RegistrarID = "registrar"

// Registrar is the https://pledgelog.dev/registrar/v1 predicate. Action
// "genesis" is entry 0: it names the origin and the registrar's first key
// and is signed by that key. Action "rotate" replaces the registrar key;
// it is signed by the old and the new key. Registrar events form one chain
// (Seq, Prev) like a signatory's.
type Registrar struct {
	Action string    `json:"action"` // "genesis" or "rotate"
	Origin string    `json:"origin"`
	Seq    uint64    `json:"seq"`
	Prev   string    `json:"prev,omitempty"` // leaf hash (hex) of the previous registrar event
	Key    PublicKey `json:"key"`
	Notice string    `json:"notice,omitempty"`
}

// Accord is the https://pledgelog.dev/accord/v1 predicate, signed by the
// registrar. It carries its text, or the text's SHA-256 and a link to it.
type Accord struct {
	Origin     string      `json:"origin"`
	ID         string      `json:"id"`
	Title      string      `json:"title"`
	Text       string      `json:"text,omitempty"`
	TextSHA256 string      `json:"textSha256,omitempty"`
	TextURI    string      `json:"textUri,omitempty"`
	Announced  string      `json:"announced,omitempty"` // YYYY-MM-DD
	Source     string      `json:"source,omitempty"`    // provenance of the text
	Principles []Principle `json:"principles"`
	Notice     string      `json:"notice,omitempty"`
}

// Principle is one commitment of an accord.
type Principle struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// Signatory event actions and revocation reasons.
const (
	ActionRegister = "register"   // registrar + new key; seq 0
	ActionAddKey   = "add-key"    // a valid key of the signatory + new key
	ActionRevoke   = "revoke-key" // a valid key of the signatory, or the registrar
	ActionRecover  = "recover"    // registrar + new key (monitors alarm)

	ReasonSuperseded  = "superseded"
	ReasonCompromised = "compromised"
)

// SignatoryEvent is the https://pledgelog.dev/signatory/v1 predicate: one
// link of a signatory's registry chain. Seq counts from 0 (register) and
// Prev is the leaf hash (hex) of the previous link; an event is admitted
// only at the head of the chain.
type SignatoryEvent struct {
	Action    string     `json:"action"`
	Origin    string     `json:"origin"`
	Signatory string     `json:"signatory"`
	Seq       uint64     `json:"seq"`
	Prev      string     `json:"prev,omitempty"`
	Name      string     `json:"name,omitempty"`    // register: legal name
	Website   string     `json:"website,omitempty"` // register
	Key       *PublicKey `json:"key,omitempty"`     // register, add-key, recover
	KeyID     string     `json:"keyid,omitempty"`   // revoke-key
	Reason    string     `json:"reason,omitempty"`  // revoke-key
	VoidFrom  *uint64    `json:"voidFrom,omitempty"`
	Notice    string     `json:"notice,omitempty"`
}

// Pledge statuses (a closed enum).
const (
	StatusCommitted  = "committed"
	StatusReaffirmed = "reaffirmed"
	StatusProgress   = "progress"
	StatusWithdrawn  = "withdrawn"
)

// Pledge is the https://pledgelog.dev/pledge/v1 predicate: a signatory's
// attestation about one principle of an accord. The statement's subject is
// the accord (its id and digest).
type Pledge struct {
	Origin     string   `json:"origin"`
	Signatory  string   `json:"signatory"`
	Accord     string   `json:"accord"`
	Principle  string   `json:"principle"`
	Status     string   `json:"status"`
	Statement  string   `json:"statement"`
	Evidence   []string `json:"evidence,omitempty"` // absolute https URIs
	Effective  string   `json:"effective"`          // YYYY-MM-DD
	Supersedes *uint64  `json:"supersedes,omitempty"`
	Notice     string   `json:"notice,omitempty"`
}

func (*Registrar) PredicateType() string      { return RegistrarType }
func (*Accord) PredicateType() string         { return AccordType }
func (*SignatoryEvent) PredicateType() string { return SignatoryType }
func (*Pledge) PredicateType() string         { return PledgeType }

func (p *Registrar) signers() int {
	if p.Action == "rotate" {
		return 2
	}
	return 1
}

func (*Accord) signers() int { return 1 }
func (*Pledge) signers() int { return 1 }

func (p *SignatoryEvent) signers() int {
	if p.Key != nil {
		return 2 // the authoriser and the new key (proof of possession)
	}
	return 1
}
