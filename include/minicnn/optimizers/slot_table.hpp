// SlotTable<T>: the per-parameter state ("slots") of an optimizer, shared by SGD, Adam and
// RMSprop.
//
// Each trainable parameter gets one zero-initialised tensor per slot name ({"m", "v"} for Adam)
// the first time prepare() sees it; non-trainable parameters (state) get none. Slots are keyed by
// the parameter's path ("conv2d/kernel", set by the model that built the layer), so the list
// given to a step may change between steps: a frozen layer's parameters leave it and keep their
// state, an unfrozen or new layer's join it with zero state (or the state they had). Parameters
// without a path (an optimizer used on its own) are keyed by their position in the list, which
// must then keep the count it had when the slots were made. A parameter met again must keep its
// shape and role; the error names the optimizer and the parameter.
//
// Slots are named "<slot>/<key>" for checkpoints: "m/conv2d/kernel", or "m/3" for position 3.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "minicnn/optimizer.hpp"

namespace minicnn::detail {

template <typename T>
class SlotTable {
 public:
  explicit SlotTable(std::vector<std::string> slot_names) : slot_names_(std::move(slot_names)) {}

  // Finds or makes the slots of every parameter of the list; `owner` names the optimizer in
  // errors. A list equal to the previous one (the usual training step) is not looked up again.
  void prepare(const std::vector<Parameter<T>*>& parameters, const Optimizer<T>& owner) {
    if (parameters == last_list_) return;
    std::size_t unnamed = 0;
    for (const Parameter<T>* p : parameters)
      unnamed += p->path.empty();
    if (unnamed > 0 && positional_count_ > 0 && unnamed != positional_count_)
      fail(owner.kind(), ": expected ", positional_count_,
           " parameters, as when its slots were made, got ", unnamed);
    // Check every known parameter before making any slot, so that a refused list changes nothing.
    std::vector<std::size_t> entries;
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      const Parameter<T>& p = *parameters[i];
      const auto found = index_.find(key_of(p, i));
      if (found == index_.end()) {
        entries.push_back(kNew);
        continue;
      }
      const Entry& entry = entries_[found->second];
      const std::string which = p.path.empty() ? concat("parameter ", i, " ('", p.name, "')")
                                               : "parameter '" + p.path + "'";
      if (p.value.shape() != entry.shape)
        fail(owner.kind(), ": ", which, " has shape ", p.value.shape(), ", expected ", entry.shape,
             " as when its slots were made");
      if (p.trainable != entry.trainable)
        fail(owner.kind(), ": ", which, " is ", p.trainable ? "trainable" : "non-trainable",
             ", expected ", entry.trainable ? "trainable" : "non-trainable",
             " as when its slots were made");
      entries.push_back(found->second);
    }
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      if (entries[i] != kNew) continue;
      const Parameter<T>& p = *parameters[i];
      Entry entry{key_of(p, i), p.value.shape(), p.trainable, {}};
      if (p.trainable) entry.slots.assign(slot_names_.size(), Tensor<T>(p.value.shape(), T(0)));
      entries[i] = entries_.size();
      index_.emplace(entry.key, entries_.size());
      entries_.push_back(std::move(entry));
    }
    if (positional_count_ == 0) positional_count_ = unnamed;
    current_ = std::move(entries);
    last_list_ = parameters;
  }

  // Slot number `slot` (an index into slot_names) of the trainable parameter at `position` in the
  // list the last prepare() was given.
  Tensor<T>& slot(std::size_t position, std::size_t slot) {
    return entries_[current_[position]].slots[slot];
  }

  // ("m/conv2d/kernel", tensor), ("v/conv2d/kernel", tensor), ...: by parameter, in the order the
  // parameters were first seen, then by slot name.
  std::vector<std::pair<std::string, Tensor<T>*>> named() {
    std::vector<std::pair<std::string, Tensor<T>*>> result;
    for (Entry& entry : entries_)
      for (std::size_t s = 0; s < entry.slots.size(); ++s)
        result.emplace_back(slot_names_[s] + "/" + entry.key, &entry.slots[s]);
    return result;
  }

 private:
  static constexpr std::size_t kNew = static_cast<std::size_t>(-1);

  static std::string key_of(const Parameter<T>& p, std::size_t position) {
    return p.path.empty() ? std::to_string(position) : p.path;
  }

  struct Entry {
    std::string key;  // the parameter's path, or its position
    Shape shape;
    bool trainable;
    std::vector<Tensor<T>> slots;  // one per slot name; empty for non-trainable parameters
  };

  std::vector<std::string> slot_names_;
  std::vector<Entry> entries_;
  std::map<std::string, std::size_t> index_;  // key -> entries_ index
  std::size_t positional_count_ = 0;          // parameters without a path when first prepared
  std::vector<Parameter<T>*> last_list_;
  std::vector<std::size_t> current_;  // last_list_ position -> entries_ index
};

}  // namespace minicnn::detail
