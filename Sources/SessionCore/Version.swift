/// sessiontop's version: the one place it is written. `sessiontop --version`, the man page
/// (generated from the argument parser) and `scripts/install` all read it from here.
public enum SessiontopVersion {
    public static let number = "0.11.0"
}
