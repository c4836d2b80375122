pub async fn search() -> super::error::ApiError {
    super::error::ApiError::NotFound("wip".into())
}
pub async fn series() -> super::error::ApiError {
    super::error::ApiError::NotFound("wip".into())
}
