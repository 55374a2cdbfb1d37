-- uploads: the waveform a client gives for a voice note (hex, as files.waveform), copied
-- into the file when the upload completes.
ALTER TABLE uploads ADD COLUMN waveform TEXT NOT NULL DEFAULT '';
