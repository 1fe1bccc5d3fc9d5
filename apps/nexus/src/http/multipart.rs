//! Multipart uploads of one field, `file`: images read into memory under their limit, and the
//! check that nothing follows the file.

use actix_multipart::Multipart;
use futures_util::StreamExt;
use nexus_content::MAX_PHOTO_BYTES;

use super::error::ApiError;

/// The bytes of the one multipart field `file` (a team member's photo, a post's cover),
/// refused past the image size limit or when any other part comes with it.
///
/// # Errors
/// 400 without the field, with another part or with a broken body; 413 past the limit.
pub async fn read_image(mut form: Multipart) -> Result<Vec<u8>, ApiError> {
    let Some(field) = form.next().await else {
        return Err(ApiError::field(
            "file",
            "required",
            "send the image in the multipart field 'file'",
        ));
    };
    let mut field = field.map_err(|e| ApiError::invalid_multipart(e.to_string()))?;
    if field.name() != Some("file") {
        return Err(only_file());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| ApiError::invalid_multipart(e.to_string()))?;
        if bytes.len() + chunk.len() > MAX_PHOTO_BYTES {
            return Err(nexus_content::ContentError::ImageTooLarge {
                max: MAX_PHOTO_BYTES,
            }
            .into());
        }
        bytes.extend_from_slice(&chunk);
    }
    drop(field);
    nothing_after_the_file(&mut form).await?;
    Ok(bytes)
}

/// Refuses a body with another part after the file: a field that is not documented is an
/// error, never silently skipped (skipping would read it, and nothing would bound its size).
///
/// # Errors
/// 400 naming `file` when another part follows; 400 `invalid_multipart` for a broken body.
pub async fn nothing_after_the_file(form: &mut Multipart) -> Result<(), ApiError> {
    match form.next().await {
        None => Ok(()),
        Some(Ok(_)) => Err(only_file()),
        Some(Err(e)) => Err(ApiError::invalid_multipart(e.to_string())),
    }
}

fn only_file() -> ApiError {
    ApiError::field(
        "file",
        "required",
        "send the file as the only multipart field, named 'file'",
    )
}
