// Package photo is the upload pipeline for geotagged photos that residents
// take with the WeChat mini-program (wx.uploadFile, one file per request).
//
// The package knows nothing about HTTP or storage: the caller hands
// [Processor.Process] an [io.Reader] with the uploaded bytes and gets back a
// [Result] holding bytes to store and the metadata to index.
//
// # Pipeline
//
//  1. Read at most Limits.MaxBytes+1 bytes (the excess is never buffered) and
//     fail with [ErrTooLarge] if the upload is bigger.
//  2. Identify the format from its magic bytes only: JPEG, PNG or WebP.
//     Anything else (GIF, BMP, HEIC, PDF, text, an empty file) is
//     [ErrUnsupported]; the file name and declared content type are ignored.
//  3. Read the dimensions from the header and refuse images above
//     Limits.MaxPixels with [ErrTooManyPixels] before any pixel is allocated,
//     so decompression bombs are cheap to reject.
//  4. Parse EXIF (JPEG APP1 "Exif", PNG eXIf, WebP EXIF) with a small,
//     bounds-checked TIFF parser: orientation, capture time and GPS position.
//  5. Strip all metadata losslessly: the compressed image data is copied byte
//     for byte and never re-encoded (see "Orientation" below).
//  6. Estimate from the stripped image's headers what decoding it will
//     allocate (see "Memory") and refuse it with [ErrTooMuchMemory] if that
//     is over Limits.DecodeMemory.
//  7. Decode the stripped image inside the decode pool (at most
//     maxConcurrentDecodes at a time, together within Limits.DecodeMemory,
//     so peak memory is bounded by the pool and not by the number of
//     concurrent uploads), apply the EXIF orientation and produce a JPEG
//     thumbnail.
//
// # What stripping keeps
//
//   - JPEG: all tables, frame and scan segments and the entropy-coded data
//     byte for byte, APP0 "JFIF" cut to its 14 bytes of fields (its
//     thumbnail and anything after it dropped), APP2 "ICC_PROFILE" (colours)
//     and APP14 "Adobe" cut to its 12 bytes (colour transform). Every other
//     APPn (EXIF, XMP, IPTC and Photoshop, MPF, C2PA, vendor data) and COM is
//     dropped, and so is anything after EOI (phones append secondary images
//     there, each with its own EXIF).
//   - PNG: only the critical chunks (IHDR, PLTE, IDAT, IEND) and the
//     ancillary chunks that change rendering (tRNS, gAMA, cHRM, sRGB, iCCP,
//     cICP, mDCV, cLLI, sBIT, pHYs, bKGD), copied with their CRC; eXIf is
//     replaced by the orientation alone; text chunks, tIME, caBX (C2PA, which
//     can record a location), APNG frames, vendor and unknown chunks and data
//     after IEND are dropped.
//   - WebP: only VP8X (with the EXIF and XMP flags cleared), ICCP, ALPH,
//     VP8 and VP8L; EXIF, XMP and unknown chunks are dropped, the RIFF size
//     is rewritten and data after the RIFF payload is dropped. Animated WebP
//     is refused as unsupported.
//
// # Orientation
//
// Phones store photos in sensor orientation and record how to rotate them
// for display in the EXIF Orientation tag. Removing EXIF entirely would make
// the stored image display sideways, and re-encoding it upright would lose
// quality. So when the orientation is not 1, the stripped image keeps a
// minimal EXIF block containing ONLY the Orientation tag (a 26-byte TIFF
// structure with a single IFD entry). This is done for all three formats:
// a JPEG APP1 segment, a PNG eXIf chunk or a WebP EXIF chunk. No other
// metadata survives; in particular there is no date, GPS, camera or XMP data.
//
// Result.Width and Result.Height are the displayed dimensions (swapped for
// orientations 5-8), and the thumbnail is always rotated upright and carries
// no metadata at all.
//
// # Memory
//
// Each Process call holds its upload (at most MaxBytes) and the stripped copy
// outside the decode pool; the decoded pixels, which dominate memory for
// large photos, exist only inside the pool. Counting pixels is not enough:
// a pixel costs 1.5 bytes in a baseline 4:2:0 JPEG, 4 in an 8-bit PNG, 8 in
// a 16-bit one, up to 16 in an interlaced 16-bit PNG and 24 in a
// progressive CMYK JPEG (whose coefficients are kept until the last scan).
// So before decoding, the headers (JPEG SOF sampling factors, progressive
// mode and Adobe transform; PNG colour type, bit depth, tRNS and interlace;
// WebP chunk kinds) give an upper bound of the bytes the decode and the
// thumbnail will allocate, checked by a test against every kind the
// decoders accept. A decode holds that many bytes of Limits.DecodeMemory
// while it runs, and one that would need more than all of it is refused.
// After a decode of a quarter of the pool or more the processor collects the
// garbage before handing the memory on, so the bound holds for the heap and
// not only for the live bytes. Callers should still bound the number of
// concurrent uploads at the HTTP layer to bound the MaxBytes-sized buffers.
package photo
