//! ContactService handlers.

use switchboard_core::UserId;
use switchboard_proto::v1 as pb;
use switchboard_service::ServiceResult;

use super::{Ctx, Handlers};
use crate::convert;

fn user_id(s: &str) -> ServiceResult<UserId> {
    Ok(UserId::parse(s, "user_id")?)
}

impl super::ContactService for Handlers {
    async fn add_contact(ctx: Ctx, r: pb::AddContactRequest) -> ServiceResult<pb::AddContactResponse> {
        let p = ctx.principal().await?;
        let c = ctx.services.put_contact(&p, user_id(&r.user_id)?, &r.remark, &r.notes).await?;
        Ok(pb::AddContactResponse { contact: Some(convert::contact(&c)) })
    }

    async fn remove_contact(ctx: Ctx, r: pb::RemoveContactRequest) -> ServiceResult<pb::RemoveContactResponse> {
        let p = ctx.principal().await?;
        let removed = ctx.services.remove_contact(&p, user_id(&r.user_id)?).await?;
        Ok(pb::RemoveContactResponse { removed })
    }

    async fn list_contacts(ctx: Ctx, r: pb::ListContactsRequest) -> ServiceResult<pb::ListContactsResponse> {
        let p = ctx.principal().await?;
        let after = UserId::parse_opt(&r.cursor, "cursor")?;
        let (contacts, next) = ctx.services.contacts(&p, after, r.limit).await?;
        let ids: Vec<UserId> = contacts.iter().map(|c| c.user_id).collect();
        let users = ctx.services.profiles(&p, &ids).await?;
        Ok(pb::ListContactsResponse {
            contacts: contacts.iter().map(convert::contact).collect(),
            users: users.iter().map(convert::user).collect(),
            next_cursor: next.map(|u| u.to_string()).unwrap_or_default(),
        })
    }

    async fn send_friend_request(
        ctx: Ctx,
        r: pb::SendFriendRequestRequest,
    ) -> ServiceResult<pb::SendFriendRequestResponse> {
        let p = ctx.principal().await?;
        let accepted = ctx.services.send_friend_request(&p, user_id(&r.user_id)?, &r.message).await?;
        Ok(pb::SendFriendRequestResponse { accepted })
    }

    async fn cancel_friend_request(
        ctx: Ctx,
        r: pb::CancelFriendRequestRequest,
    ) -> ServiceResult<pb::CancelFriendRequestResponse> {
        let p = ctx.principal().await?;
        let cancelled = ctx.services.cancel_friend_request(&p, user_id(&r.user_id)?).await?;
        Ok(pb::CancelFriendRequestResponse { cancelled })
    }

    async fn answer_friend_request(
        ctx: Ctx,
        r: pb::AnswerFriendRequestRequest,
    ) -> ServiceResult<pb::AnswerFriendRequestResponse> {
        let p = ctx.principal().await?;
        ctx.services.answer_friend_request(&p, user_id(&r.user_id)?, r.accept).await?;
        Ok(pb::AnswerFriendRequestResponse {})
    }

    async fn list_friend_requests(
        ctx: Ctx,
        r: pb::ListFriendRequestsRequest,
    ) -> ServiceResult<pb::ListFriendRequestsResponse> {
        let p = ctx.principal().await?;
        let requests = ctx.services.friend_requests(&p, r.incoming).await?;
        let others: Vec<UserId> = requests.iter().map(|x| if r.incoming { x.from } else { x.to }).collect();
        let users = ctx.services.profiles(&p, &others).await?;
        Ok(pb::ListFriendRequestsResponse {
            requests: requests.iter().map(convert::friend_request).collect(),
            users: users.iter().map(convert::user).collect(),
        })
    }

    async fn block_user(ctx: Ctx, r: pb::BlockUserRequest) -> ServiceResult<pb::BlockUserResponse> {
        let p = ctx.principal().await?;
        ctx.services.set_block(&p, user_id(&r.user_id)?, true).await?;
        Ok(pb::BlockUserResponse {})
    }

    async fn unblock_user(ctx: Ctx, r: pb::UnblockUserRequest) -> ServiceResult<pb::UnblockUserResponse> {
        let p = ctx.principal().await?;
        ctx.services.set_block(&p, user_id(&r.user_id)?, false).await?;
        Ok(pb::UnblockUserResponse {})
    }

    async fn list_blocked_users(
        ctx: Ctx,
        r: pb::ListBlockedUsersRequest,
    ) -> ServiceResult<pb::ListBlockedUsersResponse> {
        let p = ctx.principal().await?;
        let after = UserId::parse_opt(&r.cursor, "cursor")?;
        let (page, next) = ctx.services.blocked_users(&p, after, r.limit).await?;
        let ids: Vec<UserId> = page.iter().map(|(u, _)| *u).collect();
        let users = ctx.services.profiles(&p, &ids).await?;
        Ok(pb::ListBlockedUsersResponse {
            blocked: page
                .iter()
                .map(|(u, at)| pb::BlockedUser { user_id: u.to_string(), blocked_at_ms: *at })
                .collect(),
            users: users.iter().map(convert::user).collect(),
            next_cursor: next.map(|u| u.to_string()).unwrap_or_default(),
        })
    }

    async fn import_contacts(ctx: Ctx, r: pb::ImportContactsRequest) -> ServiceResult<pb::ImportContactsResponse> {
        let p = ctx.principal().await?;
        let found = ctx.services.import_contacts(&p, &r.usernames, &r.emails, &r.phones).await?;
        Ok(pb::ImportContactsResponse {
            contacts: found.iter().map(|(_, c)| convert::contact(c)).collect(),
            users: found.iter().map(|(u, _)| convert::user(u)).collect(),
        })
    }
}
