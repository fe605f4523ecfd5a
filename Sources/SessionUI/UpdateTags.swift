import SessionCore

/// Tagging (issue 11): Space tags / untags a process, `c` tags it and its descendants, `U`
/// untags all; `k` acts on the tagged set when there is one. Tags are identities (pid + start
/// time): a recycled pid is never tagged.
extension AppState {
    /// The tagged processes still alive, ascending by pid.
    public var taggedProcesses: [ProcessInfo] {
        tagged.compactMap { id in snapshot.process(id.pid).flatMap { $0.startTime == id.startTime ? $0 : nil } }
            .sorted { $0.pid < $1.pid }
    }

    mutating func toggleTag() {
        guard let p = selectedProcess else {
            setNote("Space tags a process: select a process row (Enter folds sessions and groups)")
            return
        }
        if tagged.remove(p.identity) == nil { tagged.insert(p.identity) }
        setNote(tagged.isEmpty ? "no process tagged" : "\(plural(tagged.count, "process")) tagged (k signals them, U untags)")
        move(by: 1)
    }

    /// `c`: the selected process and every descendant (children at any depth, whatever their
    /// group or session).
    mutating func tagWithDescendants() {
        guard let p = selectedProcess else { setNote("c tags a process and its descendants: select a process row"); return }
        var stack = [p.pid]
        var seen = Set<Int32>()
        var n = 0
        while let pid = stack.popLast() {
            guard seen.insert(pid).inserted, let q = snapshot.process(pid), !q.isKernelThread else { continue }
            tagged.insert(q.identity)
            n += 1
            stack += snapshot.children[pid] ?? []
        }
        setNote("tagged pid \(p.pid) and \(plural(n - 1, "descendant")): \(plural(tagged.count, "process")) tagged")
    }

    mutating func untagAll() {
        let n = tagged.count
        tagged = []
        setNote(n == 0 ? "nothing was tagged" : "untagged \(plural(n, "process"))")
    }

    /// After a refresh: tags of processes that are gone (or whose pid now names another).
    mutating func pruneTags() {
        guard !tagged.isEmpty else { return }
        tagged = tagged.filter { snapshot.process($0.pid)?.startTime == $0.startTime }
    }

    /// `k` with tags: the menu for the tagged set.
    mutating func openTaggedSignalMenu() {
        let ids = taggedProcesses.map(\.identity)
        guard !ids.isEmpty else { tagged = []; openSignalMenu(); return }
        dialog = .signalMenuTagged(targets: ids, index: 0, typed: "")
    }

    /// What the core will refuse among the tagged (pid 1, kernel threads, sessiontop).
    public func taggedRefusal(_ ids: [ProcessIdentity]) -> String? {
        for id in ids {
            if let why = refusalHint(.process(id)) { return why }
        }
        return nil
    }
}
