//! Tests of the login flows, over a real in-memory SQLite store.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::*;
use crate::auth::master_key::MasterKey;
use crate::auth::service::testing::{Fixture, PASSWORD};
use crate::auth::tokens::AccessTokens;

fn is_invalid<T: std::fmt::Debug>(result: &Result<T, AuthError>) -> bool {
    matches!(result, Err(AuthError::TokenInvalid(_)))
}

#[tokio::test]
async fn login_issues_tokens_that_authenticate() {
    let fixture = Fixture::new();
    let user = fixture.user("an@may.vn").await;
    let tokens = fixture
        .service
        .login(" AN@may.vn ", PASSWORD)
        .await
        .expect("login");
    assert_eq!(tokens.user_id, user.id);
    assert!(tokens.refresh_token.starts_with("loa_rt_"));
    let start = super::super::service::testing::START_MS;
    assert_eq!(tokens.access_expires_at_ms, start + 15 * 60_000);
    assert_eq!(tokens.refresh_expires_at_ms, start + 30 * 86_400_000);
    let identity = fixture
        .service
        .authenticate_access(&tokens.access_token)
        .await
        .expect("valid");
    assert_eq!(identity.user.id, user.id);
    assert!(identity.session_family.starts_with("rf_"));
}

#[tokio::test]
async fn unknown_email_and_wrong_password_fail_alike() {
    let fixture = Fixture::new();
    fixture.user("an@may.vn").await;
    let wrong = fixture.service.login("an@may.vn", "not the password").await;
    let unknown = fixture.service.login("who@may.vn", PASSWORD).await;
    let huge = fixture
        .service
        .login("an@may.vn", &"x".repeat(10_000))
        .await;
    for result in [&wrong, &unknown, &huge] {
        assert!(
            matches!(result, Err(AuthError::InvalidCredentials)),
            "{result:?}"
        );
    }
    assert_eq!(
        wrong.expect_err("refused").to_string(),
        unknown.expect_err("refused").to_string()
    );
}

#[tokio::test]
async fn disabled_user_cannot_log_in_or_use_tokens() {
    let fixture = Fixture::new();
    let mut user = fixture.user("an@may.vn").await;
    let tokens = fixture
        .service
        .login("an@may.vn", PASSWORD)
        .await
        .expect("login");
    // No store call disables a user yet; a second account with the flag stands in.
    user.id = "us_disabled".to_owned();
    user.email = "off@may.vn".to_owned();
    user.disabled = true;
    fixture.store.create_user(&user).await.expect("stored");
    let login = fixture.service.login("off@may.vn", PASSWORD).await;
    assert!(matches!(login, Err(AuthError::Disabled)), "{login:?}");
    // A token for the disabled account, signed with the right key (as if issued earlier).
    let signer = AccessTokens::new(&MasterKey::from_bytes([42; 32]));
    let start = super::super::service::testing::START_MS;
    let (token, _) = signer
        .issue("us_disabled", "rf_x", start, 60_000)
        .expect("sign");
    let access = fixture.service.authenticate_access(&token).await;
    assert!(matches!(access, Err(AuthError::Disabled)), "{access:?}");
    fixture
        .service
        .authenticate_access(&tokens.access_token)
        .await
        .expect("others unaffected");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let fixture = Fixture::new();
    fixture.user("an@may.vn").await;
    let first = fixture
        .service
        .login("an@may.vn", PASSWORD)
        .await
        .expect("login");
    fixture.advance_ms(60_000);
    let second = fixture
        .service
        .refresh(&first.refresh_token)
        .await
        .expect("rotated");
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(second.user_id, first.user_id);
    fixture
        .service
        .authenticate_access(&second.access_token)
        .await
        .expect("new access works");

    // The first token again: stolen. Everything of this login stops working.
    let reuse = fixture.service.refresh(&first.refresh_token).await;
    assert!(matches!(reuse, Err(AuthError::RefreshReused)), "{reuse:?}");
    let next = fixture.service.refresh(&second.refresh_token).await;
    assert!(matches!(next, Err(AuthError::RefreshReused)), "{next:?}");
    for access in [&first.access_token, &second.access_token] {
        assert!(is_invalid(
            &fixture.service.authenticate_access(access).await
        ));
    }
}

#[tokio::test]
async fn expired_refresh_token_is_refused() {
    let fixture = Fixture::new();
    fixture.user("an@may.vn").await;
    let tokens = fixture
        .service
        .login("an@may.vn", PASSWORD)
        .await
        .expect("login");
    fixture.advance_ms(30 * 86_400_000);
    let refresh = fixture.service.refresh(&tokens.refresh_token).await;
    assert!(
        matches!(refresh, Err(AuthError::TokenExpired)),
        "{refresh:?}"
    );
}

#[tokio::test]
async fn logout_ends_that_login_only() {
    let fixture = Fixture::new();
    fixture.user("an@may.vn").await;
    let phone = fixture
        .service
        .login("an@may.vn", PASSWORD)
        .await
        .expect("login");
    let laptop = fixture
        .service
        .login("an@may.vn", PASSWORD)
        .await
        .expect("login");
    fixture
        .service
        .logout(&phone.refresh_token)
        .await
        .expect("logout");
    assert!(is_invalid(
        &fixture
            .service
            .authenticate_access(&phone.access_token)
            .await
    ));
    let refresh = fixture.service.refresh(&phone.refresh_token).await;
    assert!(
        matches!(refresh, Err(AuthError::RefreshReused)),
        "{refresh:?}"
    );
    fixture
        .service
        .authenticate_access(&laptop.access_token)
        .await
        .expect("laptop still in");
    fixture
        .service
        .refresh(&laptop.refresh_token)
        .await
        .expect("laptop refreshes");
    let garbage = fixture.service.logout("loa_rt_nope").await;
    assert!(is_invalid(&garbage), "{garbage:?}");
}

#[tokio::test]
async fn password_change_kills_old_access_and_refresh_tokens() {
    let fixture = Fixture::new();
    let user = fixture.user("an@may.vn").await;
    let old = fixture
        .service
        .login("an@may.vn", PASSWORD)
        .await
        .expect("login");
    fixture.advance_ms(1_500);
    let wrong = fixture
        .service
        .change_password(&user.id, "not it at all", "a new password!")
        .await;
    assert!(
        matches!(wrong, Err(AuthError::InvalidCredentials)),
        "{wrong:?}"
    );
    let weak = fixture
        .service
        .change_password(&user.id, PASSWORD, "short")
        .await;
    assert!(matches!(weak, Err(AuthError::WeakPassword(_))), "{weak:?}");
    let unknown = fixture
        .service
        .change_password("us_nobody", PASSWORD, "a new password!")
        .await;
    assert!(matches!(unknown, Err(AuthError::NotFound)), "{unknown:?}");

    fixture
        .service
        .change_password(&user.id, PASSWORD, "a new password!")
        .await
        .expect("changed");
    assert!(is_invalid(
        &fixture.service.authenticate_access(&old.access_token).await
    ));
    let refresh = fixture.service.refresh(&old.refresh_token).await;
    assert!(
        matches!(refresh, Err(AuthError::RefreshReused)),
        "{refresh:?}"
    );
    // A login in the same second as the change works.
    let new = fixture
        .service
        .login("an@may.vn", "a new password!")
        .await
        .expect("login");
    fixture
        .service
        .authenticate_access(&new.access_token)
        .await
        .expect("new token works");
}

#[tokio::test]
async fn forged_none_and_expired_access_tokens_are_refused() {
    let fixture = Fixture::new();
    let user = fixture.user("an@may.vn").await;
    let tokens = fixture
        .service
        .login("an@may.vn", PASSWORD)
        .await
        .expect("login");
    let sid = fixture
        .service
        .authenticate_access(&tokens.access_token)
        .await
        .expect("valid")
        .session_family;
    let start = super::super::service::testing::START_MS;

    let forger = AccessTokens::new(&MasterKey::from_bytes([7; 32]));
    let (forged, _) = forger.issue(&user.id, &sid, start, 60_000).expect("sign");
    let result = fixture.service.authenticate_access(&forged).await;
    assert!(
        matches!(&result, Err(AuthError::TokenInvalid(r)) if r.contains("signature")),
        "{result:?}"
    );

    let claims = format!(
        r#"{{"sub":"{}","sid":"{sid}","iat":{},"exp":{},"iss":"loa","typ":"access"}}"#,
        user.id,
        start / 1000,
        start / 1000 + 900
    );
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let result = fixture.service.authenticate_access(&none).await;
    assert!(
        matches!(&result, Err(AuthError::TokenInvalid(r)) if r.contains("none")),
        "{result:?}"
    );

    fixture.advance_ms(15 * 60_000);
    let expired = fixture
        .service
        .authenticate_access(&tokens.access_token)
        .await;
    assert!(
        matches!(expired, Err(AuthError::TokenExpired)),
        "{expired:?}"
    );
}
