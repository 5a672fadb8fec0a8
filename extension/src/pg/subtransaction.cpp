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
    } catch (...) {
        // The enclosing transaction is being aborted by the exception in flight anyway.
    }
}

}  // namespace pgm::pg
