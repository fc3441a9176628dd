// SlotTable<T>: the per-parameter state ("slots") of an optimizer, shared by SGD, Adam and
// RMSprop.
//
// For each position in the parameter list it records the parameter's shape and trainability on
// the first prepare() and, for trainable parameters, holds one zero-initialised tensor per slot
// name ({"m", "v"} for Adam). Later prepare() calls only compare: the same count, shapes and
// trainability, else an Error naming the optimizer and the position. Non-trainable parameters
// have no slots. Slots are named "<slot>/<position>" for checkpoints, position counting every
// parameter of the list, so "m/3" is the first moment of parameter 3 whatever precedes it.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "minicnn/optimizer.hpp"

namespace minicnn::detail {

template <typename T>
class SlotTable {
 public:
  explicit SlotTable(std::vector<std::string> slot_names) : slot_names_(std::move(slot_names)) {}

  // Allocates on the first call only; `owner` names the optimizer in errors.
  void prepare(const std::vector<Parameter<T>*>& parameters, const Optimizer<T>& owner) {
    if (!prepared_) {
      entries_.clear();
      for (const Parameter<T>* p : parameters) {
        Entry entry{p->value.shape(), p->trainable, {}};
        if (p->trainable) entry.slots.assign(slot_names_.size(), Tensor<T>(p->value.shape(), T(0)));
        entries_.push_back(std::move(entry));
      }
      prepared_ = true;
      return;
    }
    if (parameters.size() != entries_.size())
      fail(owner.kind(), ": expected ", entries_.size(),
           " parameters, as when its slots were made, got ", parameters.size());
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      const Parameter<T>& p = *parameters[i];
      const Entry& entry = entries_[i];
      if (p.value.shape() != entry.shape)
        fail(owner.kind(), ": parameter ", i, " ('", p.name, "') has shape ", p.value.shape(),
             ", expected ", entry.shape, " as when its slots were made");
      if (p.trainable != entry.trainable)
        fail(owner.kind(), ": parameter ", i, " ('", p.name, "') is ",
             p.trainable ? "trainable" : "non-trainable", ", expected ",
             entry.trainable ? "trainable" : "non-trainable", " as when its slots were made");
    }
  }

  // Slot number `slot` (an index into slot_names) of the trainable parameter at `position`.
  Tensor<T>& slot(std::size_t position, std::size_t slot) { return entries_[position].slots[slot]; }

  // ("m/0", tensor), ("v/0", tensor), ("m/1", tensor), ...: by position, then by slot name.
  std::vector<std::pair<std::string, Tensor<T>*>> named() {
    std::vector<std::pair<std::string, Tensor<T>*>> result;
    for (std::size_t i = 0; i < entries_.size(); ++i)
      for (std::size_t s = 0; s < entries_[i].slots.size(); ++s)
        result.emplace_back(slot_names_[s] + "/" + std::to_string(i), &entries_[i].slots[s]);
    return result;
  }

 private:
  struct Entry {
    Shape shape;
    bool trainable;
    std::vector<Tensor<T>> slots;  // one per slot name; empty for non-trainable parameters
  };

  std::vector<std::string> slot_names_;
  std::vector<Entry> entries_;
  bool prepared_ = false;
};

}  // namespace minicnn::detail
