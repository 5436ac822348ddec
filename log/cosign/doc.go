// Package cosign collects witness cosignatures for a log's checkpoints and
// publishes the checkpoints a quorum of witnesses cosigned.
//
// A [Collector] runs beside the log's sequencer (both started by the
// caller with Run, under one errgroup) for a log opened with
// log.Config.Witnessed. Every Config.Interval it takes the latest
// committed checkpoint as the candidate and offers it to every witness
// with the c2sp.org/tlog-witness add-checkpoint call:
//
//	POST <witness URL>/add-checkpoint
//
//	old <the size the witness last cosigned>
//	<consistency proof from that size, one base64 hash a line>
//
//	<the log-signed checkpoint>
//
// Each witness has one request in flight at most, and is always given the
// latest candidate, never a backlog: a witness that fell behind skips to
// the newest checkpoint. The log does not know what a witness cosigned
// before; it starts with old 0 and learns the witness's size from its
// 409 answer (Content-Type text/x.tlog.size), then proves consistency
// from there with the log's own proofs (log.Log.ConsistencyProof). A 409
// that names the size just sent means that the witness cosigned another
// tree of that size, and a 422 that the proof does not reach what the
// witness saw: either is a fork, logged as an error and counted, never
// retried as if it were transient. Witnesses sharing one URL (a witness
// with an Ed25519 and an ML-DSA-44 key) get one request.
//
// The answer's signature lines are kept only when they are from the
// witness's key in the policy and verify on the candidate; others are
// ignored. When the witnesses whose cosignatures verified on one
// candidate meet the quorum (Config.Met), the candidate, with the log's
// signatures and those cosignatures, is written to Config.StateFile and
// published with log.Log.PublishCosigned: /checkpoint then serves it.
// Appenders never wait for this; their bundles carry the log-signed
// checkpoint of their batch, and a client that wants one under the quorum
// asks for it later (web's GET /api/v1/entries/{index}/bundle).
//
// # Start
//
// [Collector.Start], called before the sequencer runs, loads the last
// cosigned checkpoint from Config.StateFile, so that a restarted log
// serves it at once, and asks every witness which size it cosigned (an
// add-checkpoint of the latest checkpoint with old 0). If any witness
// cosigned a size larger than the log's tree, the log lost entries it
// had published — its storage was restored from an old backup — and
// Start fails with [ErrRollback]: sequencing would sign a second,
// conflicting tree. Witnesses that do not answer are logged and skipped.
//
// # Health and metrics
//
// [Collector.Ready] fails, saying which witnesses fail and how, when the
// committed tree has been ahead of the last cosigned checkpoint for longer
// than Config.MaxStaleness. The metrics, labelled witness=<policy name>:
//
//	pledgelog_witness_lag_entries            committed entries the witness has not cosigned
//	pledgelog_witness_lag_seconds            how long it has been behind (0 when current)
//	pledgelog_witness_last_success_timestamp_seconds
//	pledgelog_witness_failures_total{status} failed requests: the HTTP status,
//	                                         "network", "bad-response", "fork" or "proof"
//	pledgelog_witness_request_seconds        add-checkpoint round trips
//	pledgelog_cosigned_tree_size             the size of the last cosigned publication
package cosign
