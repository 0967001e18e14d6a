//! `multipart/form-data` bodies for uploads: Salesforce's ContentVersion
//! (the record's JSON, then the bytes) and S3's presigned POST (the
//! policy's fields, then the file).

/// One text part before the file: name, value, and its content type.
pub struct Field<'a> {
    pub name: &'a str,
    pub value: &'a str,
    pub content_type: Option<&'a str>,
}

/// The body and its `Content-Type`: `fields` in order, then the file as
/// the part `file_part` named `file_name`. The boundary is checked against
/// the bytes so it cannot occur inside them.
pub fn form(
    fields: &[Field<'_>],
    file_part: &str,
    file_name: &str,
    file_type: &str,
    bytes: &[u8],
) -> (String, Vec<u8>) {
    let mut n = 0u32;
    let boundary = loop {
        let b = format!("ferry-boundary-{n:08x}-{}", bytes.len());
        let inside = |hay: &[u8]| hay.windows(b.len()).any(|w| w == b.as_bytes());
        if !inside(bytes) && !fields.iter().any(|f| inside(f.value.as_bytes())) {
            break b;
        }
        n += 1;
    };
    let quoted = file_name.replace(['"', '\r', '\n'], "_");
    let mut out = Vec::with_capacity(bytes.len() + 512);
    for f in fields {
        let ct = f
            .content_type
            .map(|c| format!("Content-Type: {c}\r\n"))
            .unwrap_or_default();
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n{ct}\r\n{}\r\n",
                f.name, f.value
            )
            .as_bytes(),
        );
    }
    out.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{file_part}\"; filename=\"{quoted}\"\r\nContent-Type: {file_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(bytes);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), out)
}
