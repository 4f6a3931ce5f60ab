// Package photos owns uploads: admission (per-resident and overall limits
// on uploads in flight, the pace of a body), processing through package
// photo (content, size, pixel and memory bounds, EXIF read and stripped),
// storing, and the signed, expiring URLs the mini-program's <image> loads
// without an Authorization header.
package photos
