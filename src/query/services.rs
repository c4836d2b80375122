pub async fn list() -> super::error::ApiError {
    super::error::ApiError::NotFound("wip".into())
}
pub async fn operations() -> super::error::ApiError {
    super::error::ApiError::NotFound("wip".into())
}
pub async fn map() -> super::error::ApiError {
    super::error::ApiError::NotFound("wip".into())
}
