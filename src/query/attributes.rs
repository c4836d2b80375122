pub async fn keys() -> super::error::ApiError {
    super::error::ApiError::NotFound("wip".into())
}
pub async fn values() -> super::error::ApiError {
    super::error::ApiError::NotFound("wip".into())
}
