# SR-IOV: NVMe physical functions with 2 VFs each (the guest writes
# sriov_numvfs before capturing). QEMU refuses a CMB with SR-IOV, so the
# p2pmem provider is a separate NVMe. One PF below a switch downstream port
# next to the CMB NVMe (VF <-> provider through the switch), one PF below a
# root port (VFs and PF share the root port as common upstream device).
rp rp1 pcie.0 0x2
sw sw1 rp1 2
nvme nvme1 sw1.d0
nvmesriov nvme2 sw1.d1 2
rp rp2 pcie.0 0x3
nvmesriov nvme3 rp2 2
