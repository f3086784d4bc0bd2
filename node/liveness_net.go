package node

import (
	"context"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	pb "github.com/ipfs/boxo/bitswap/message/pb"
	bsnet "github.com/ipfs/boxo/bitswap/network"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The two ends liveness listens at: bitswap's messages, for what each peer
// owes, and libp2p's byte counts, for when each last sent anything.

// owingNetwork tells liveness which blocks this node asked of which peer,
// and which of them came, were refused, or were cancelled.
type owingNetwork struct {
	bsnet.BitSwapNetwork
	l *liveness
}

func (l *liveness) network(inner bsnet.BitSwapNetwork) bsnet.BitSwapNetwork {
	return owingNetwork{BitSwapNetwork: inner, l: l}
}

func (o owingNetwork) SendMessage(ctx context.Context, p peer.ID, msg bsmsg.BitSwapMessage) error {
	o.l.asked(p, msg)
	return o.BitSwapNetwork.SendMessage(ctx, p, msg)
}

func (o owingNetwork) NewMessageSender(ctx context.Context, p peer.ID, opts *bsnet.MessageSenderOpts) (bsnet.MessageSender, error) {
	s, err := o.BitSwapNetwork.NewMessageSender(ctx, p, opts)
	if err != nil {
		return nil, err
	}
	return owingSender{MessageSender: s, peer: p, l: o.l}, nil
}

func (o owingNetwork) Start(receivers ...bsnet.Receiver) {
	wrapped := make([]bsnet.Receiver, len(receivers))
	for i, r := range receivers {
		wrapped[i] = owingReceiver{Receiver: r, l: o.l}
	}
	o.BitSwapNetwork.Start(wrapped...)
}

type owingSender struct {
	bsnet.MessageSender
	peer peer.ID
	l    *liveness
}

func (s owingSender) SendMsg(ctx context.Context, msg bsmsg.BitSwapMessage) error {
	s.l.asked(s.peer, msg)
	return s.MessageSender.SendMsg(ctx, msg)
}

type owingReceiver struct {
	bsnet.Receiver
	l *liveness
}

func (r owingReceiver) ReceiveMessage(ctx context.Context, p peer.ID, msg bsmsg.BitSwapMessage) {
	r.l.settle(p, msg)
	for _, b := range msg.Blocks() {
		r.l.forgive(p, string(b.Cid().Hash()))
	}
	for _, c := range msg.DontHaves() {
		r.l.forgive(p, string(c.Hash()))
	}
	r.Receiver.ReceiveMessage(ctx, p, msg)
}

func (r owingReceiver) PeerDisconnected(p peer.ID) {
	r.l.gone(p)
	r.Receiver.PeerDisconnected(p)
}

// settle matches a message from a peer that owes blocks against the
// bytes of it counted as they were read. One that carried no block (wants,
// HAVEs, DONT_HAVEs) is taken back from incoming: a puller that owes this
// node a block sends its own wants all the time, and counted as a block in
// transit they kept a pull whose want that peer had lost from looking
// stalled, so it waited 4× --timeout instead of redialing. Only bytes
// counted are taken back: a message read before the peer owed anything
// was never added. A message with blocks is progress and stays counted.
func (l *liveness) settle(p peer.ID, msg bsmsg.BitSwapMessage) {
	v, owes := l.heard.Load(p)
	if !owes {
		return
	}
	o := v.(*owingPeer)
	var size int64
	blks := msg.Blocks()
	for _, b := range blks {
		size += int64(len(b.RawData()))
	}
	if len(blks) == 0 {
		n := proto.Size(msg.ToProtoV1())
		size = int64(protowire.SizeVarint(uint64(n)) + n + chatterSlack)
	}
	for {
		counted := o.counted.Load()
		take := min(size, counted)
		if o.counted.CompareAndSwap(counted, counted-take) {
			if len(blks) == 0 {
				l.incoming.Add(-take)
			}
			return
		}
	}
}

// chatterSlack is taken back beyond a message's size as boxo encodes it,
// in case a peer's bitswap encodes it a few bytes longer: bytes left
// counted would add up, message by message, to progress. Taking back too
// much only hides as many bytes of the next block, kilobytes a second
// even at 2 Mbit/s.
const chatterSlack = 16

// asked notes the blocks msg asks p for, and the wants it cancels.
func (l *liveness) asked(p peer.ID, msg bsmsg.BitSwapMessage) {
	for _, e := range msg.Wantlist() {
		switch {
		case e.Cancel:
			l.forgive(p, string(e.Cid.Hash()))
		case e.WantType == pb.Message_Wantlist_Block:
			l.owe(p, string(e.Cid.Hash()))
		}
	}
}

// hearing is the host's bandwidth reporter: it only notes when each peer
// that owes blocks last sent a byte on any stream, and counts the bitswap
// bytes such peers send.
type hearing struct{ l *liveness }

// LogRecvMessageStream is called for every read, failed ones (n == 0)
// included: a ping cut short by its timeout would otherwise count as an
// answer.
func (h hearing) LogRecvMessageStream(n int64, proto protocol.ID, p peer.ID) {
	if n > 0 {
		h.l.heardFrom(p, n, proto)
	}
}

func (hearing) LogSentMessage(int64)                                  {}
func (hearing) LogRecvMessage(int64)                                  {}
func (hearing) LogSentMessageStream(int64, protocol.ID, peer.ID)      {}
func (hearing) GetBandwidthForPeer(peer.ID) metrics.Stats             { return metrics.Stats{} }
func (hearing) GetBandwidthForProtocol(protocol.ID) metrics.Stats     { return metrics.Stats{} }
func (hearing) GetBandwidthTotals() metrics.Stats                     { return metrics.Stats{} }
func (hearing) GetBandwidthByPeer() map[peer.ID]metrics.Stats         { return nil }
func (hearing) GetBandwidthByProtocol() map[protocol.ID]metrics.Stats { return nil }
func (hearing) Reset()                                                {}
func (hearing) TrimIdle(time.Time)                                    {}
