/**
 * Why a VM library could not be opened. Each is a distinct class so the app can tell the user exactly
 * what to do (close the other instance, restore a backup, update VM Studio); none of these paths ever
 * modifies the user's file.
 */
export class LibraryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The file exists but is not an SQLite database, or SQLite reports damage. */
export class LibraryCorruptError extends LibraryError {}

/** Another process (normally another VM Studio) holds the database lock. */
export class LibraryLockedError extends LibraryError {}

/** The file was written by a newer VM Studio whose schema this build does not know. */
export class LibraryTooNewError extends LibraryError {}

/** A lookup or write refers to something that is not in the library, or breaks one of its rules. */
export class LibraryRecordError extends LibraryError {}
