package node

// bootstrapFor returns the public DHT's entry points for opts, and a note
// for the user when the choice needs one. Only public mode bootstraps, from
// the configured peers or else Kubo's default ones. Those are public IPFS
// nodes, never in a private network: a node with a swarm key cannot
// connect to them (the handshake fails) and dialing them only tells them,
// and anyone watching, that the node is there. So a private network starts
// with none, as Kubo refuses to start a private network on its mainnet
// defaults.
func bootstrapFor(opts Options) ([]string, string) {
	if opts.Mode != ModePublic || len(opts.Bootstrap) > 0 {
		return opts.Bootstrap, ""
	}
	if opts.SwarmKey != nil {
		return nil, "private network: no Bootstrap peers in the config, so the DHT starts from --peer, the config's Peers and mDNS (the public bootstrap peers are outside the network)"
	}
	return DefaultBootstrap(), ""
}
