package etcdapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/orrery/orrery/node/kv"
)

// healthTimeout bounds the read /health makes.
const healthTimeout = 5 * time.Second

// healthBody is etcd's /health body.
type healthBody struct {
	Health string `json:"health"`
	Reason string `json:"reason"`
}

// versions is etcd's /version body.
type versions struct {
	Server  string `json:"etcdserver"`
	Cluster string `json:"etcdcluster"`
	Storage string `json:"storage"`
}

// Handler serves etcd's /health and /version over HTTP. /health is healthy when the
// member knows a leader and can read the key "health" (linearizably, or from its own
// state with ?serializable=true), as etcd checks it.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", s.serveHealth)
	mux.HandleFunc("/version", s.serveVersion)
	return mux
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	serializable := r.URL.Query().Get("serializable") == "true"
	h := s.checkHealth(r.Context(), serializable)
	body, _ := json.Marshal(h)
	if h.Health != "true" {
		http.Error(w, string(body), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func (s *Server) checkHealth(ctx context.Context, serializable bool) healthBody {
	if !serializable && s.b.Header().Leader == 0 {
		return healthBody{Health: "false", Reason: "RAFT NO LEADER"}
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	q := kv.Query{Range: &kv.RangeRequest{Key: []byte("health"), Serializable: serializable}}
	if _, err := s.query(ctx, q, serializable); err != nil {
		return healthBody{Health: "false", Reason: "QGET ERROR:" + err.Error()}
	}
	return healthBody{Health: "true"}
}

func (s *Server) serveVersion(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	sv := storageVersion(s.opts.Version)
	body, _ := json.Marshal(versions{Server: s.opts.Version, Cluster: sv, Storage: sv})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
