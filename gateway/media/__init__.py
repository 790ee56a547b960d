"""Images, speech and transcription: what the media routes check, read and count."""
