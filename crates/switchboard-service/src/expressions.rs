//! Sticker packs and custom emoji: who makes them, where they may be used, and the
//! checks a message or a reaction that uses one goes through.
//!
//! Stored as records: a pack per record (kind `sticker_pack`, keyed by its id, scoped
//! by its space or [`SERVER_SCOPE`]), and a space's custom emoji together in one record
//! (kind `custom_emoji`), so that a name is unique in its space. Every change is a
//! compare-and-set on the record's version.

use rand::Rng;
use switchboard_core::expressions::{self as ex, CustomEmoji, EmojiName, EmojiSet, PackSticker, StickerPack};
use switchboard_core::model::{Attachment, Sticker};
use switchboard_core::space::Permissions;
use switchboard_core::{ConversationId, CustomEmojiId, FileId, StickerId, StickerPackId};
use switchboard_store::{Expect, Record, StoreError};

use crate::{Principal, ServiceError, ServiceResult, Services};

/// The scope of server-wide sticker packs (no conversation has id 0).
const SERVER_SCOPE: ConversationId = ConversationId::from_raw(0);
const PACK: &str = "sticker_pack";
const EMOJI: &str = "custom_emoji";
const CAS_ATTEMPTS: usize = 8;

fn new_id() -> i64 {
    rand::thread_rng().gen_range(1..i64::MAX)
}

fn pack_not_found() -> ServiceError {
    ServiceError::not_found("sticker pack")
}

fn decode<T: switchboard_format::Stored>(record: &Record) -> ServiceResult<T> {
    switchboard_format::decode(record.format, record.body.as_bytes())
        .map_err(|e| ServiceError::internal(format!("record {}: {e}", record.key)))
}

fn pack_of(record: &Record) -> ServiceResult<StickerPack> {
    let mut pack: StickerPack = decode(record)?;
    pack.version = record.version;
    Ok(pack)
}

fn scope_of(space: Option<ConversationId>) -> ConversationId {
    space.unwrap_or(SERVER_SCOPE)
}

impl Services {
    /// Who may change packs of `space` (none: server-wide): administrators for the
    /// server's, members with manage_expressions for a space's.
    async fn may_manage(&self, p: &Principal, space: Option<ConversationId>) -> ServiceResult<()> {
        match space {
            None if p.admin => Ok(()),
            None => Err(ServiceError::denied("only server administrators manage the server's sticker packs")),
            Some(s) => self.require_space(p, s, Permissions::MANAGE_EXPRESSIONS).await.map(drop),
        }
    }

    /// Whether the caller may see `space`'s expressions (none: the server's, everyone).
    async fn may_see(&self, p: &Principal, space: Option<ConversationId>) -> ServiceResult<()> {
        match space {
            None => Ok(()),
            Some(s) => self.as_member(p, s).await.map(drop),
        }
    }

    /// Makes an empty sticker pack, server-wide (`space` none) or of a space.
    pub async fn create_sticker_pack(
        &self,
        p: &Principal,
        space: Option<ConversationId>,
        name: &str,
    ) -> ServiceResult<StickerPack> {
        let name = ex::pack_name(name)?;
        self.may_manage(p, space).await?;
        let max = self.config().expressions.max_sticker_packs;
        let scope = scope_of(space);
        if self.store().list_records(scope, PACK, "", max).await?.len() >= max as usize {
            let whose = if space.is_some() { "a space" } else { "the server" };
            return Err(ServiceError::precondition(format!("{whose} has at most {max} sticker packs"))
                .because("sticker_pack_limit"));
        }
        let mut pack = StickerPack {
            id: StickerPackId::from_raw(new_id()),
            space_id: space,
            name,
            stickers: Vec::new(),
            created_by: p.user_id,
            created_at_ms: self.now_ms(),
            version: 0,
        };
        let body = switchboard_format::encode(&pack);
        pack.version = self.store().put_record(scope, PACK, &pack.id.to_string(), body, Expect::Absent).await?;
        Ok(pack)
    }

    /// A pack by id, if the caller may see it.
    pub async fn sticker_pack(&self, p: &Principal, id: StickerPackId) -> ServiceResult<StickerPack> {
        let record = self.store().find_record(PACK, &id.to_string()).await?.ok_or_else(pack_not_found)?;
        let pack = pack_of(&record)?;
        self.may_see(p, pack.space_id).await.map_err(|_| pack_not_found())?;
        let mut packs = [pack];
        self.with_pack_files(&mut packs).await?;
        let [pack] = packs;
        Ok(pack)
    }

    /// The server's packs (`space` none) or a space's, by id.
    pub async fn sticker_packs(&self, p: &Principal, space: Option<ConversationId>) -> ServiceResult<Vec<StickerPack>> {
        self.may_see(p, space).await?;
        let max = self.config().expressions.max_sticker_packs;
        let records = self.store().list_records(scope_of(space), PACK, "", max).await?;
        let mut packs = records.iter().map(pack_of).collect::<ServiceResult<Vec<_>>>()?;
        packs.sort_by_key(|p| p.created_at_ms);
        self.with_pack_files(&mut packs).await?;
        Ok(packs)
    }

    /// Renames a pack, adds a sticker to it or takes one out, as `f` says; compare-and-set
    /// on the pack's version, retried when someone else changed it meanwhile.
    async fn change_pack(
        &self,
        p: &Principal,
        id: StickerPackId,
        mut f: impl FnMut(&mut StickerPack) -> ServiceResult<()>,
    ) -> ServiceResult<StickerPack> {
        let key = id.to_string();
        for _ in 0..CAS_ATTEMPTS {
            let record = self.store().find_record(PACK, &key).await?.ok_or_else(pack_not_found)?;
            let mut pack = pack_of(&record)?;
            self.may_manage(p, pack.space_id).await.map_err(|e| self.hide_pack(e, &pack))?;
            f(&mut pack)?;
            let body = switchboard_format::encode(&pack);
            match self.store().put_record(record.scope, PACK, &key, body, Expect::Version(record.version)).await {
                Ok(version) => {
                    pack.version = version;
                    let mut packs = [pack];
                    self.with_pack_files(&mut packs).await?;
                    let [pack] = packs;
                    return Ok(pack);
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict("the sticker pack").into())
    }

    /// A space's pack stays hidden from those outside the space.
    fn hide_pack(&self, e: ServiceError, pack: &StickerPack) -> ServiceError {
        if pack.space_id.is_some() && e.code == switchboard_core::ErrorCode::NotFound { pack_not_found() } else { e }
    }

    /// Renames a pack.
    pub async fn rename_sticker_pack(
        &self,
        p: &Principal,
        id: StickerPackId,
        name: &str,
    ) -> ServiceResult<StickerPack> {
        let name = ex::pack_name(name)?;
        self.change_pack(p, id, |pack| {
            pack.name.clone_from(&name);
            Ok(())
        })
        .await
    }

    /// Adds a sticker (the caller's public image, standing for `emoji`) at the pack's end.
    pub async fn add_sticker(
        &self,
        p: &Principal,
        id: StickerPackId,
        file: FileId,
        emoji: &str,
    ) -> ServiceResult<(StickerPack, StickerId)> {
        let emoji = ex::sticker_emoji(emoji)?;
        self.check_public_image(p, file, "file_id", "sticker_not_public_image", "a sticker").await?;
        let max = self.config().expressions.max_stickers_per_pack;
        let sticker = StickerId::from_raw(new_id());
        let pack = self
            .change_pack(p, id, |pack| {
                if pack.stickers.len() >= max {
                    return Err(ServiceError::precondition(format!("a pack has at most {max} stickers"))
                        .because("sticker_limit"));
                }
                pack.stickers.push(PackSticker { id: sticker, emoji: emoji.clone(), image: Attachment::of(file) });
                Ok(())
            })
            .await?;
        Ok((pack, sticker))
    }

    /// Takes a sticker out of its pack; messages that carry it keep showing it.
    pub async fn remove_sticker(
        &self,
        p: &Principal,
        id: StickerPackId,
        sticker: StickerId,
    ) -> ServiceResult<StickerPack> {
        self.change_pack(p, id, |pack| {
            let before = pack.stickers.len();
            pack.stickers.retain(|s| s.id != sticker);
            if pack.stickers.len() == before {
                return Err(ServiceError::not_found("sticker"));
            }
            Ok(())
        })
        .await
    }

    /// Deletes a pack; messages that carry its stickers keep showing them.
    pub async fn delete_sticker_pack(&self, p: &Principal, id: StickerPackId) -> ServiceResult<()> {
        let key = id.to_string();
        let record = self.store().find_record(PACK, &key).await?.ok_or_else(pack_not_found)?;
        let pack = pack_of(&record)?;
        self.may_manage(p, pack.space_id).await.map_err(|e| self.hide_pack(e, &pack))?;
        self.store().delete_record(record.scope, PACK, &key).await?;
        Ok(())
    }

    /// Fills the sticker images' file records.
    async fn with_pack_files(&self, packs: &mut [StickerPack]) -> ServiceResult<()> {
        let images = packs.iter_mut().flat_map(|p| p.stickers.iter_mut().map(|s| &mut s.image));
        self.fill_files(images.collect()).await
    }

    /// The sticker a message in `conversation` carries: the pack must be the server's or
    /// belong to the conversation's space.
    pub(crate) async fn sticker_for(
        &self,
        p: &Principal,
        conversation: ConversationId,
        pack: StickerPackId,
        sticker: StickerId,
    ) -> ServiceResult<Sticker> {
        let gone = || ServiceError::not_found("sticker").field("sticker_id");
        let record = self.store().find_record(PACK, &pack.to_string()).await?.ok_or_else(gone)?;
        let found = pack_of(&record)?;
        if let Some(space) = found.space_id {
            let conv = self.store().conversation(conversation).await?;
            if conv.and_then(|c| c.space_id) != Some(space) {
                return Err(ServiceError::invalid(
                    "sticker_id",
                    "a space's stickers are sent in that space's channels and threads",
                )
                .because("sticker_elsewhere"));
            }
        }
        self.may_see(p, found.space_id).await?;
        let s = found.sticker(sticker).ok_or_else(gone)?;
        Ok(Sticker {
            pack_id: pack,
            sticker_id: sticker,
            emoji: s.emoji.clone(),
            image: Attachment::of(s.image.file_id),
        })
    }

    // ---- custom emoji --------------------------------------------------------------------

    async fn emoji_set(&self, space: ConversationId) -> ServiceResult<(EmojiSet, Option<u64>)> {
        match self.store().record(space, EMOJI, "").await? {
            Some(r) => Ok((decode(&r)?, Some(r.version))),
            None => Ok((EmojiSet::default(), None)),
        }
    }

    /// A space's custom emoji, oldest first (members only).
    pub async fn custom_emoji(&self, p: &Principal, space: ConversationId) -> ServiceResult<Vec<CustomEmoji>> {
        self.as_member(p, space).await?;
        let (mut set, _) = self.emoji_set(space).await?;
        self.fill_files(set.emoji.iter_mut().map(|e| &mut e.image).collect()).await?;
        Ok(set.emoji)
    }

    /// Changes a space's custom emoji as `f` says (manage_expressions).
    async fn change_emoji<T>(
        &self,
        p: &Principal,
        space: ConversationId,
        mut f: impl FnMut(&mut EmojiSet) -> ServiceResult<T>,
    ) -> ServiceResult<T> {
        for _ in 0..CAS_ATTEMPTS {
            self.require_space(p, space, Permissions::MANAGE_EXPRESSIONS).await?;
            let (mut set, version) = self.emoji_set(space).await?;
            let out = f(&mut set)?;
            let expect = version.map_or(Expect::Absent, Expect::Version);
            match self.store().put_record(space, EMOJI, "", switchboard_format::encode(&set), expect).await {
                Ok(_) => return Ok(out),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict("the space's custom emoji").into())
    }

    /// Adds a custom emoji (the caller's public image) under a name unique in the space.
    pub async fn add_custom_emoji(
        &self,
        p: &Principal,
        space: ConversationId,
        name: &str,
        file: FileId,
    ) -> ServiceResult<CustomEmoji> {
        let name = EmojiName::parse(name)?.into_string();
        self.require_space(p, space, Permissions::MANAGE_EXPRESSIONS).await?;
        self.check_public_image(p, file, "file_id", "emoji_not_public_image", "a custom emoji").await?;
        let max = self.config().expressions.max_custom_emoji_per_space;
        let emoji = CustomEmoji {
            id: CustomEmojiId::from_raw(new_id()),
            space_id: space,
            name,
            image: Attachment::of(file),
            created_by: p.user_id,
            created_at_ms: self.now_ms(),
        };
        let mut added = self
            .change_emoji(p, space, |set| {
                if set.emoji.iter().any(|e| e.name == emoji.name) {
                    return Err(ServiceError::new(
                        switchboard_core::ErrorCode::AlreadyExists,
                        format!("the space already has an emoji called :{}:", emoji.name),
                    )
                    .field("name"));
                }
                if set.emoji.len() >= max {
                    return Err(ServiceError::precondition(format!("a space has at most {max} custom emoji"))
                        .because("custom_emoji_limit"));
                }
                set.emoji.push(emoji.clone());
                Ok(emoji.clone())
            })
            .await?;
        self.fill_files(vec![&mut added.image]).await?;
        Ok(added)
    }

    /// Removes a custom emoji; text that showed it shows its `:name:`, reactions with it
    /// stay (clients show them without the image).
    pub async fn remove_custom_emoji(
        &self,
        p: &Principal,
        space: ConversationId,
        id: CustomEmojiId,
    ) -> ServiceResult<()> {
        self.change_emoji(p, space, |set| {
            let before = set.emoji.len();
            set.emoji.retain(|e| e.id != id);
            if set.emoji.len() == before {
                return Err(ServiceError::not_found("custom emoji"));
            }
            Ok(())
        })
        .await
    }

    /// Checks that custom emoji used in `conversation` (in text or a reaction) are of its
    /// space.
    pub(crate) async fn check_custom_emoji(
        &self,
        conversation: ConversationId,
        ids: &[CustomEmojiId],
        field: &'static str,
    ) -> ServiceResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let space = self.store().conversation(conversation).await?.and_then(|c| c.space_id);
        let Some(space) = space else {
            return Err(ServiceError::invalid(field, "custom emoji are used in their space's channels and threads")
                .because("custom_emoji_elsewhere"));
        };
        let (set, _) = self.emoji_set(space).await?;
        if let Some(missing) = ids.iter().find(|id| set.get(**id).is_none()) {
            return Err(ServiceError::invalid(field, format!("custom emoji {missing} is not one of this space's"))
                .because("custom_emoji_elsewhere"));
        }
        Ok(())
    }
}
