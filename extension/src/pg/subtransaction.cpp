#include "pg/subtransaction.hpp"

#include "pg/error.hpp"

namespace pgm::pg {

Subtransaction::Subtransaction() : context_(CurrentMemoryContext), owner_(CurrentResourceOwner) {
    MemoryContext ctx = context_;
    guarded([ctx] {
        BeginInternalSubTransaction(nullptr);
        // Keep allocating where the caller was (the SPI procedure context), not in the
        // subtransaction's context, so results survive the subtransaction.
        MemoryContextSwitchTo(ctx);
    });
    open_ = true;
}

void Subtransaction::commit() {
    if (!open_) throw UserError("XX000", "pg_migrate internal error: subtransaction not open");
    MemoryContext ctx = context_;
    ResourceOwner owner = owner_;
    open_ = false;
    guarded([ctx, owner] {
        ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(ctx);
        CurrentResourceOwner = owner;
    });
}

void Subtransaction::rollback() {
    // A second rollback (after one that failed) would release the enclosing level instead.
    if (!open_) return;
    MemoryContext ctx = context_;
    ResourceOwner owner = owner_;
    open_ = false;
    guarded([ctx, owner] {
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(ctx);
        CurrentResourceOwner = owner;
    });
}

Subtransaction::~Subtransaction() {
    if (!open_) return;
    try {
        rollback();
    } catch (const std::exception &e) {
        // Unwinding already: the error in flight aborts the enclosing transaction, which
        // finishes this cleanup. Say that it failed instead of hiding it.
        note_cleanup_failure("rolling back a subtransaction", e.what());
    }
}

}  // namespace pgm::pg
