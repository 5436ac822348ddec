package web

// cached returns the session of a verified token with this hash if it has
// not expired and its key is still valid; a token whose key was revoked is
// dropped.
func (a *authenticator) cached(sum [32]byte) (*session, bool) {
	a.mu.Lock()
	t, ok := a.cache[sum]
	a.mu.Unlock()
	if !ok {
		return nil, false
	}
	if !a.now().Before(t.exp.Add(tokenLeeway)) {
		a.forget(sum)
		return nil, false
	}
	if v := a.reg.Version(); v != t.version {
		key, err := a.reg.Key(t.issuer, t.keyID)
		if err != nil || !key.Valid() {
			a.forget(sum)
			return nil, false
		}
		t.version = v
		a.remember(sum, t)
	}
	return &t.session, true
}

// remember caches a verified token, first dropping expired ones if the
// cache is full, and everything if they were not enough.
func (a *authenticator) remember(sum [32]byte, t cachedToken) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) >= maxCachedTokens {
		now := a.now()
		for k, c := range a.cache {
			if !now.Before(c.exp.Add(tokenLeeway)) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= maxCachedTokens {
			clear(a.cache)
		}
	}
	a.cache[sum] = t
}

func (a *authenticator) forget(sum [32]byte) {
	a.mu.Lock()
	delete(a.cache, sum)
	a.mu.Unlock()
}
