//! What a device has applied, per log; the argument of a resuming subscribe.

use std::collections::BTreeMap;

use switchboard_proto::v1 as pb;
use switchboard_proto::v1::event::Kind;

/// Positions of one device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Positions {
    /// Highest user_seq applied.
    pub user_seq: u64,
    /// Highest seq applied per conversation.
    pub conversations: BTreeMap<String, u64>,
}

impl Positions {
    /// Applies an event; returns false when it was already applied (a duplicate) or is out
    /// of order (which a correct server never sends).
    pub fn apply(&mut self, e: &pb::Event) -> bool {
        if e.user_seq > 0 {
            if e.user_seq != self.user_seq + 1 {
                return false;
            }
            self.user_seq = e.user_seq;
            match &e.kind {
                Some(Kind::ConversationJoined(j)) => {
                    self.conversations.entry(j.conversation_id.clone()).or_insert(j.joined_at_seq);
                }
                Some(Kind::ConversationLeft(l)) => {
                    self.conversations.remove(&l.conversation_id);
                }
                _ => {}
            }
            return true;
        }
        if e.seq > 0 {
            let at = self.conversations.entry(e.conversation_id.clone()).or_insert(0);
            if e.seq != *at + 1 {
                return false;
            }
            *at = e.seq;
        }
        true
    }

    /// A subscribe request resuming from these positions.
    pub fn subscribe_request(&self) -> pb::SubscribeRequest {
        pb::SubscribeRequest {
            user_seq: self.user_seq,
            positions: self
                .conversations
                .iter()
                .map(|(c, s)| pb::ConversationPosition { conversation_id: c.clone(), seq: *s })
                .collect(),
            live_only: false,
        }
    }
}
