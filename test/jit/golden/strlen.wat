;; module 0: 940 bytes
(func 0 (locals 29 x i32, 1 x i64, 1 x i32)
  local.get 0
  i32.load offset=128 align=4
  local.get 3
  i32.sub
  local.set 4
  local.get 0
  i32.const 576
  i32.mul
  i32.const 31195136
  i32.add
  local.set 13
  local.get 0
  i32.load offset=0 align=4
  local.set 17
  local.get 0
  i32.load offset=8 align=4
  local.set 18
  local.get 0
  i32.load offset=16 align=4
  local.set 19
  local.get 0
  i32.load offset=24 align=4
  local.set 20
  local.get 0
  i32.load offset=32 align=4
  local.set 21
  local.get 0
  i32.load offset=40 align=4
  local.set 22
  local.get 0
  i32.load offset=48 align=4
  local.set 23
  local.get 0
  i32.load offset=56 align=4
  local.set 24
  block
    block
      loop
        block
          block
            local.get 2
            br_table 0 1 1
          end
          local.get 17
          local.set 7
          local.get 17
          local.set 6
          local.get 6
          local.get 7
          i32.xor
          local.set 8
          local.get 8
          local.set 17
          local.get 6
          local.set 25
          local.get 7
          local.set 26
          local.get 8
          local.set 27
          i32.const 0
          local.set 7
          local.get 24
          local.get 17
          i32.add
          local.set 10
          block
            block
              local.get 13
              local.get 10
              i32.const 12
              i32.shr_u
              i32.const 2
              i32.shl
              i32.add
              i32.load offset=0 align=4
              local.tee 14
              i32.const 1
              i32.and
              i32.eqz
              br_if 0
              local.get 14
              i32.const -4096
              i32.and
              local.get 10
              i32.xor
              i32.load8_u offset=0 align=1
              local.set 6
              br 1
            end
            i32.const 3
            local.get 10
            call 2
            local.set 6
            global.get 0
            if
              local.get 0
              local.get 4
              i32.const 2
              i32.add
              i32.store offset=128 align=4
              i32.const 516
              local.set 34
              i32.const 1
              local.set 5
              br 4
            end
          end
          local.get 6
          local.get 7
          i32.sub
          i32.const 255
          i32.and
          local.set 8
          local.get 6
          i32.const 255
          i32.and
          local.set 25
          local.get 7
          i32.const 255
          i32.and
          local.set 26
          local.get 8
          local.set 27
          local.get 27
          i32.eqz
          if
            local.get 4
            i32.const 11
            i32.add
            local.set 9
            local.get 0
            local.get 9
            i32.store offset=128 align=4
            i32.const 2
            local.set 34
            i32.const 3
            local.set 5
            br 3
          end
          local.get 15
          i32.const 3
          i32.add
          local.set 15
          local.get 0
          local.get 4
          i32.const 8
          i32.add
          i32.store offset=128 align=4
          local.get 0
          i32.const 2
          i32.store offset=144 align=4
          local.get 0
          i32.const 0
          i32.store offset=148 align=4
          local.get 0
          local.get 25
          i32.store offset=160 align=4
          local.get 0
          local.get 26
          i32.store offset=168 align=4
          local.get 0
          local.get 27
          i32.store offset=152 align=4
          local.get 0
          i32.const 2261
          i32.store offset=140 align=4
          local.get 15
          i32.const 64
          i32.add
          local.get 1
          i32.le_u
          local.get 0
          i32.load offset=1800 align=4
          i32.eqz
          i32.and
          br_if 0
          i32.const 0
          local.set 5
          br 3
        end
        local.get 17
        local.set 6
        local.get 6
        i32.const 1
        i32.add
        local.set 8
        local.get 8
        local.set 17
        local.get 0
        i32.load offset=140 align=4
        i32.const 1
        i32.and
        if (result i32)
          i32.const 32
          i32.const 8
          local.get 0
          i32.load offset=148 align=4
          i32.shl
          i32.sub
          local.set 31
          local.get 0
          i32.load offset=160 align=4
          local.get 31
          i32.shl
          local.set 29
          local.get 0
          i32.load offset=168 align=4
          local.get 31
          i32.shl
          local.set 30
          local.get 0
          i32.load offset=152 align=4
          local.get 31
          i32.shl
          local.set 31
          local.get 29
          local.get 30
          local.get 0
          i32.load offset=144 align=4
          i32.const 2
          i32.lt_u
          select
          local.get 31
          local.get 29
          local.get 0
          i32.load offset=144 align=4
          i32.const 2
          i32.lt_u
          select
          local.set 29
          local.set 30
          local.get 29
          local.get 30
          i32.le_u
          local.get 29
          local.get 30
          i32.lt_u
          local.get 0
          i32.load offset=144 align=4
          i32.const 1
          i32.and
          select
          local.get 0
          i32.load offset=144 align=4
          i32.const 4
          i32.lt_u
          i32.and
        else
          local.get 0
          i32.load offset=136 align=4
          i32.const 0
          i32.shr_u
          i32.const 1
          i32.and
        end
        local.set 16
        local.get 6
        local.set 25
        local.get 8
        local.set 27
        local.get 16
        local.set 28
        local.get 4
        i32.const 2
        i32.add
        local.set 9
        local.get 0
        local.get 9
        i32.store offset=128 align=4
        local.get 0
        local.get 0
        i32.load offset=136 align=4
        i32.const -2066
        i32.and
        local.get 28
        i32.or
        local.get 27
        i32.const -2147483648
        i32.eq
        i32.const 11
        i32.shl
        i32.or
        local.get 25
        local.get 27
        i32.xor
        i32.const 16
        i32.and
        i32.or
        i32.store offset=136 align=4
        local.get 0
        i32.const 5
        i32.store offset=144 align=4
        local.get 0
        i32.const 2
        i32.store offset=148 align=4
        local.get 0
        local.get 27
        i32.store offset=152 align=4
        local.get 0
        i32.const 196
        i32.store offset=140 align=4
        i32.const 2
        local.set 5
        br 2
      end
      unreachable
    end
    local.get 0
    local.get 34
    i32.const 255
    i32.and
    i32.store offset=144 align=4
    local.get 0
    local.get 34
    i32.const 8
    i32.shr_u
    i32.store offset=148 align=4
    local.get 0
    local.get 25
    i32.store offset=160 align=4
    local.get 0
    local.get 26
    i32.store offset=168 align=4
    local.get 0
    local.get 27
    i32.store offset=152 align=4
    local.get 0
    i32.const 2261
    i32.store offset=140 align=4
  end
  local.get 0
  local.get 17
  i32.store offset=0 align=4
  local.get 0
  local.get 18
  i32.store offset=8 align=4
  local.get 0
  local.get 19
  i32.store offset=16 align=4
  local.get 0
  local.get 20
  i32.store offset=24 align=4
  local.get 0
  local.get 21
  i32.store offset=32 align=4
  local.get 0
  local.get 22
  i32.store offset=40 align=4
  local.get 0
  local.get 23
  i32.store offset=48 align=4
  local.get 0
  local.get 24
  i32.store offset=56 align=4
  local.get 5
  local.get 15
  i32.add
)

;; module 1: 920 bytes
(func 0 (locals 29 x i32, 1 x i64, 1 x i32)
  local.get 0
  i32.load offset=128 align=4
  local.get 3
  i32.sub
  local.set 4
  local.get 0
  i32.const 576
  i32.mul
  i32.const 31195136
  i32.add
  local.set 13
  local.get 0
  i32.load offset=0 align=4
  local.set 17
  local.get 0
  i32.load offset=8 align=4
  local.set 18
  local.get 0
  i32.load offset=16 align=4
  local.set 19
  local.get 0
  i32.load offset=24 align=4
  local.set 20
  local.get 0
  i32.load offset=32 align=4
  local.set 21
  local.get 0
  i32.load offset=40 align=4
  local.set 22
  local.get 0
  i32.load offset=48 align=4
  local.set 23
  local.get 0
  i32.load offset=56 align=4
  local.set 24
  block
    block
      loop
        block
          block
            local.get 2
            br_table 0 1 1
          end
          i32.const 0
          local.set 7
          local.get 24
          local.get 17
          i32.add
          local.set 10
          block
            block
              local.get 13
              local.get 10
              i32.const 12
              i32.shr_u
              i32.const 2
              i32.shl
              i32.add
              i32.load offset=0 align=4
              local.tee 14
              i32.const 1
              i32.and
              i32.eqz
              br_if 0
              local.get 14
              i32.const -4096
              i32.and
              local.get 10
              i32.xor
              i32.load8_u offset=0 align=1
              local.set 6
              br 1
            end
            i32.const 3
            local.get 10
            call 2
            local.set 6
            global.get 0
            if
              i32.const 0
              local.set 5
              br 5
            end
          end
          local.get 6
          local.get 7
          i32.sub
          i32.const 255
          i32.and
          local.set 8
          local.get 6
          i32.const 255
          i32.and
          local.set 25
          local.get 7
          i32.const 255
          i32.and
          local.set 26
          local.get 8
          local.set 27
          local.get 27
          i32.eqz
          if
            local.get 4
            i32.const 9
            i32.add
            local.set 9
            local.get 0
            local.get 9
            i32.store offset=128 align=4
            i32.const 2
            local.set 34
            i32.const 2
            local.set 5
            br 3
          end
          local.get 15
          i32.const 2
          i32.add
          local.set 15
          local.get 0
          local.get 4
          i32.const 6
          i32.add
          i32.store offset=128 align=4
          local.get 0
          i32.const 2
          i32.store offset=144 align=4
          local.get 0
          i32.const 0
          i32.store offset=148 align=4
          local.get 0
          local.get 25
          i32.store offset=160 align=4
          local.get 0
          local.get 26
          i32.store offset=168 align=4
          local.get 0
          local.get 27
          i32.store offset=152 align=4
          local.get 0
          i32.const 2261
          i32.store offset=140 align=4
          local.get 15
          i32.const 64
          i32.add
          local.get 1
          i32.le_u
          local.get 0
          i32.load offset=1800 align=4
          i32.eqz
          i32.and
          br_if 0
          i32.const 0
          local.set 5
          br 3
        end
        local.get 17
        local.set 6
        local.get 6
        i32.const 1
        i32.add
        local.set 8
        local.get 8
        local.set 17
        local.get 0
        i32.load offset=140 align=4
        i32.const 1
        i32.and
        if (result i32)
          i32.const 32
          i32.const 8
          local.get 0
          i32.load offset=148 align=4
          i32.shl
          i32.sub
          local.set 31
          local.get 0
          i32.load offset=160 align=4
          local.get 31
          i32.shl
          local.set 29
          local.get 0
          i32.load offset=168 align=4
          local.get 31
          i32.shl
          local.set 30
          local.get 0
          i32.load offset=152 align=4
          local.get 31
          i32.shl
          local.set 31
          local.get 29
          local.get 30
          local.get 0
          i32.load offset=144 align=4
          i32.const 2
          i32.lt_u
          select
          local.get 31
          local.get 29
          local.get 0
          i32.load offset=144 align=4
          i32.const 2
          i32.lt_u
          select
          local.set 29
          local.set 30
          local.get 29
          local.get 30
          i32.le_u
          local.get 29
          local.get 30
          i32.lt_u
          local.get 0
          i32.load offset=144 align=4
          i32.const 1
          i32.and
          select
          local.get 0
          i32.load offset=144 align=4
          i32.const 4
          i32.lt_u
          i32.and
        else
          local.get 0
          i32.load offset=136 align=4
          i32.const 0
          i32.shr_u
          i32.const 1
          i32.and
        end
        local.set 16
        local.get 6
        local.set 25
        local.get 8
        local.set 27
        local.get 16
        local.set 28
        local.get 4
        local.set 9
        local.get 15
        i32.const 2
        i32.add
        local.set 15
        local.get 0
        local.get 4
        i32.store offset=128 align=4
        i32.const 0
        local.set 2
        local.get 0
        local.get 0
        i32.load offset=136 align=4
        i32.const -2066
        i32.and
        local.get 28
        i32.or
        local.get 27
        i32.const -2147483648
        i32.eq
        i32.const 11
        i32.shl
        i32.or
        local.get 25
        local.get 27
        i32.xor
        i32.const 16
        i32.and
        i32.or
        i32.store offset=136 align=4
        local.get 0
        i32.const 5
        i32.store offset=144 align=4
        local.get 0
        i32.const 2
        i32.store offset=148 align=4
        local.get 0
        local.get 27
        i32.store offset=152 align=4
        local.get 0
        i32.const 196
        i32.store offset=140 align=4
        local.get 15
        i32.const 64
        i32.add
        local.get 1
        i32.le_u
        local.get 0
        i32.load offset=1800 align=4
        i32.eqz
        i32.and
        br_if 0
        i32.const 0
        local.set 5
        br 2
      end
      unreachable
    end
    local.get 0
    local.get 34
    i32.const 255
    i32.and
    i32.store offset=144 align=4
    local.get 0
    local.get 34
    i32.const 8
    i32.shr_u
    i32.store offset=148 align=4
    local.get 0
    local.get 25
    i32.store offset=160 align=4
    local.get 0
    local.get 26
    i32.store offset=168 align=4
    local.get 0
    local.get 27
    i32.store offset=152 align=4
    local.get 0
    i32.const 2261
    i32.store offset=140 align=4
  end
  local.get 0
  local.get 17
  i32.store offset=0 align=4
  local.get 0
  local.get 18
  i32.store offset=8 align=4
  local.get 0
  local.get 19
  i32.store offset=16 align=4
  local.get 0
  local.get 20
  i32.store offset=24 align=4
  local.get 0
  local.get 21
  i32.store offset=32 align=4
  local.get 0
  local.get 22
  i32.store offset=40 align=4
  local.get 0
  local.get 23
  i32.store offset=48 align=4
  local.get 0
  local.get 24
  i32.store offset=56 align=4
  local.get 5
  local.get 15
  i32.add
)

;; module 2: 455 bytes
(func 0 (locals 29 x i32, 1 x i64, 1 x i32)
  local.get 0
  i32.load offset=128 align=4
  local.get 3
  i32.sub
  local.set 4
  local.get 0
  i32.const 576
  i32.mul
  i32.const 31195136
  i32.add
  local.set 13
  local.get 0
  i32.load offset=0 align=4
  local.set 17
  local.get 0
  i32.load offset=8 align=4
  local.set 18
  local.get 0
  i32.load offset=16 align=4
  local.set 19
  local.get 0
  i32.load offset=24 align=4
  local.set 20
  local.get 0
  i32.load offset=32 align=4
  local.set 21
  local.get 0
  i32.load offset=40 align=4
  local.set 22
  local.get 0
  i32.load offset=48 align=4
  local.set 23
  local.get 0
  i32.load offset=56 align=4
  local.set 24
  block
    block
      loop
        block
          local.get 2
          br_table 0 0
        end
        local.get 21
        local.set 6
        local.get 6
        local.set 10
        block
          block
            local.get 10
            i32.const 4095
            i32.and
            i32.const 4092
            i32.gt_u
            br_if 0
            local.get 13
            local.get 10
            i32.const 12
            i32.shr_u
            i32.const 2
            i32.shl
            i32.add
            i32.load offset=0 align=4
            local.tee 14
            i32.const 1
            i32.and
            i32.eqz
            br_if 0
            local.get 14
            i32.const -4096
            i32.and
            local.get 10
            i32.xor
            i32.load offset=0 align=1
            local.set 9
            br 1
          end
          i32.const 2
          local.get 10
          call 4
          local.set 9
          global.get 0
          if
            i32.const 0
            local.set 5
            br 4
          end
        end
        local.get 6
        i32.const 4
        i32.add
        local.set 6
        local.get 6
        local.set 21
        local.get 0
        local.get 9
        i32.store offset=128 align=4
        i32.const 1
        local.set 5
        br 2
      end
      unreachable
    end
  end
  local.get 0
  local.get 17
  i32.store offset=0 align=4
  local.get 0
  local.get 18
  i32.store offset=8 align=4
  local.get 0
  local.get 19
  i32.store offset=16 align=4
  local.get 0
  local.get 20
  i32.store offset=24 align=4
  local.get 0
  local.get 21
  i32.store offset=32 align=4
  local.get 0
  local.get 22
  i32.store offset=40 align=4
  local.get 0
  local.get 23
  i32.store offset=48 align=4
  local.get 0
  local.get 24
  i32.store offset=56 align=4
  local.get 5
  local.get 15
  i32.add
)

;; module 3: 891 bytes
(func 0 (locals 29 x i32, 1 x i64, 1 x i32)
  local.get 0
  i32.load offset=128 align=4
  local.get 3
  i32.sub
  local.set 4
  local.get 0
  i32.const 576
  i32.mul
  i32.const 31195136
  i32.add
  local.set 13
  local.get 0
  i32.load offset=0 align=4
  local.set 17
  local.get 0
  i32.load offset=8 align=4
  local.set 18
  local.get 0
  i32.load offset=16 align=4
  local.set 19
  local.get 0
  i32.load offset=24 align=4
  local.set 20
  local.get 0
  i32.load offset=32 align=4
  local.set 21
  local.get 0
  i32.load offset=40 align=4
  local.set 22
  local.get 0
  i32.load offset=48 align=4
  local.set 23
  local.get 0
  i32.load offset=56 align=4
  local.set 24
  block
    block
      loop
        block
          block
            local.get 2
            br_table 0 1 1
          end
          local.get 20
          local.set 6
          local.get 6
          i32.const 1
          i32.sub
          local.set 8
          local.get 8
          local.set 20
          local.get 0
          i32.load offset=140 align=4
          i32.const 1
          i32.and
          if (result i32)
            i32.const 32
            i32.const 8
            local.get 0
            i32.load offset=148 align=4
            i32.shl
            i32.sub
            local.set 31
            local.get 0
            i32.load offset=160 align=4
            local.get 31
            i32.shl
            local.set 29
            local.get 0
            i32.load offset=168 align=4
            local.get 31
            i32.shl
            local.set 30
            local.get 0
            i32.load offset=152 align=4
            local.get 31
            i32.shl
            local.set 31
            local.get 29
            local.get 30
            local.get 0
            i32.load offset=144 align=4
            i32.const 2
            i32.lt_u
            select
            local.get 31
            local.get 29
            local.get 0
            i32.load offset=144 align=4
            i32.const 2
            i32.lt_u
            select
            local.set 29
            local.set 30
            local.get 29
            local.get 30
            i32.le_u
            local.get 29
            local.get 30
            i32.lt_u
            local.get 0
            i32.load offset=144 align=4
            i32.const 1
            i32.and
            select
            local.get 0
            i32.load offset=144 align=4
            i32.const 4
            i32.lt_u
            i32.and
          else
            local.get 0
            i32.load offset=136 align=4
            i32.const 0
            i32.shr_u
            i32.const 1
            i32.and
          end
          local.set 16
          local.get 6
          local.set 25
          local.get 8
          local.set 27
          local.get 16
          local.set 28
          local.get 27
          i32.eqz
          i32.eqz
          if
            local.get 4
            i32.const -10
            i32.add
            local.set 9
            local.get 0
            local.get 9
            i32.store offset=128 align=4
            local.get 0
            local.get 0
            i32.load offset=136 align=4
            i32.const -2066
            i32.and
            local.get 28
            i32.or
            local.get 25
            i32.const -2147483648
            i32.eq
            i32.const 11
            i32.shl
            i32.or
            local.get 25
            local.get 27
            i32.xor
            i32.const 16
            i32.and
            i32.or
            i32.store offset=136 align=4
            local.get 0
            i32.const 5
            i32.store offset=144 align=4
            local.get 0
            i32.const 2
            i32.store offset=148 align=4
            local.get 0
            local.get 27
            i32.store offset=152 align=4
            local.get 0
            i32.const 196
            i32.store offset=140 align=4
            i32.const 2
            local.set 5
            br 4
          end
          local.get 15
          i32.const 2
          i32.add
          local.set 15
          local.get 0
          local.get 4
          i32.const 3
          i32.add
          i32.store offset=128 align=4
          local.get 0
          local.get 0
          i32.load offset=136 align=4
          i32.const -2066
          i32.and
          local.get 28
          i32.or
          local.get 25
          i32.const -2147483648
          i32.eq
          i32.const 11
          i32.shl
          i32.or
          local.get 25
          local.get 27
          i32.xor
          i32.const 16
          i32.and
          i32.or
          i32.store offset=136 align=4
          local.get 0
          i32.const 5
          i32.store offset=144 align=4
          local.get 0
          i32.const 2
          i32.store offset=148 align=4
          local.get 0
          local.get 27
          i32.store offset=152 align=4
          local.get 0
          i32.const 196
          i32.store offset=140 align=4
          local.get 15
          i32.const 64
          i32.add
          local.get 1
          i32.le_u
          local.get 0
          i32.load offset=1800 align=4
          i32.eqz
          i32.and
          br_if 0
          i32.const 0
          local.set 5
          br 3
        end
        local.get 0
        local.get 17
        i32.store offset=0 align=4
        local.get 0
        local.get 18
        i32.store offset=8 align=4
        local.get 0
        local.get 19
        i32.store offset=16 align=4
        local.get 0
        local.get 20
        i32.store offset=24 align=4
        local.get 0
        local.get 21
        i32.store offset=32 align=4
        local.get 0
        local.get 22
        i32.store offset=40 align=4
        local.get 0
        local.get 23
        i32.store offset=48 align=4
        local.get 0
        local.get 24
        i32.store offset=56 align=4
        i32.const 16974800
        local.get 4
        i32.const 3
        i32.add
        call 0
        local.tee 5
        if
          local.get 5
          i32.const 1
          i32.shr_u
          i32.const 0
          i32.add
          local.get 15
          i32.add
          return
        end
        local.get 0
        i32.load offset=0 align=4
        local.set 17
        local.get 0
        i32.load offset=8 align=4
        local.set 18
        local.get 0
        i32.load offset=16 align=4
        local.set 19
        local.get 0
        i32.load offset=24 align=4
        local.set 20
        local.get 0
        i32.load offset=32 align=4
        local.set 21
        local.get 0
        i32.load offset=40 align=4
        local.set 22
        local.get 0
        i32.load offset=48 align=4
        local.set 23
        local.get 0
        i32.load offset=56 align=4
        local.set 24
        local.get 0
        local.get 4
        i32.const 4
        i32.add
        i32.store offset=128 align=4
        i32.const 1
        local.set 5
        br 2
      end
      unreachable
    end
  end
  local.get 0
  local.get 17
  i32.store offset=0 align=4
  local.get 0
  local.get 18
  i32.store offset=8 align=4
  local.get 0
  local.get 19
  i32.store offset=16 align=4
  local.get 0
  local.get 20
  i32.store offset=24 align=4
  local.get 0
  local.get 21
  i32.store offset=32 align=4
  local.get 0
  local.get 22
  i32.store offset=40 align=4
  local.get 0
  local.get 23
  i32.store offset=48 align=4
  local.get 0
  local.get 24
  i32.store offset=56 align=4
  local.get 5
  local.get 15
  i32.add
)

;; module 4: 2311 bytes
(func 0 (locals 29 x i32, 1 x i64, 1 x i32)
  local.get 0
  i32.load offset=128 align=4
  local.get 3
  i32.sub
  local.set 4
  local.get 0
  i32.const 576
  i32.mul
  i32.const 31195136
  i32.add
  local.set 13
  local.get 0
  i32.load offset=0 align=4
  local.set 17
  local.get 0
  i32.load offset=8 align=4
  local.set 18
  local.get 0
  i32.load offset=16 align=4
  local.set 19
  local.get 0
  i32.load offset=24 align=4
  local.set 20
  local.get 0
  i32.load offset=32 align=4
  local.set 21
  local.get 0
  i32.load offset=40 align=4
  local.set 22
  local.get 0
  i32.load offset=48 align=4
  local.set 23
  local.get 0
  i32.load offset=56 align=4
  local.set 24
  block
    block
      loop
        block
          block
            block
              block
                block
                  block
                    block
                      local.get 2
                      br_table 0 1 2 3 4 5 6 6
                    end
                    i32.const 32768
                    local.set 9
                    local.get 9
                    local.set 24
                    local.get 4
                    i32.const 14
                    i32.add
                    local.set 9
                    local.get 21
                    i32.const 4
                    i32.sub
                    local.set 6
                    local.get 6
                    local.set 10
                    local.get 4
                    i32.const 10
                    i32.add
                    local.set 11
                    block
                      block
                        local.get 10
                        i32.const 4095
                        i32.and
                        i32.const 4092
                        i32.gt_u
                        br_if 0
                        local.get 13
                        local.get 10
                        i32.const 12
                        i32.shr_u
                        i32.const 2
                        i32.shl
                        i32.add
                        i32.load offset=0 align=4
                        local.tee 14
                        i32.const 2
                        i32.and
                        i32.eqz
                        br_if 0
                        local.get 14
                        i32.const -4096
                        i32.and
                        local.get 10
                        i32.xor
                        local.get 11
                        i32.store offset=0 align=1
                        br 1
                      end
                      i32.const 2
                      local.get 10
                      local.get 11
                      call 7
                      global.get 0
                      if
                        local.get 0
                        local.get 4
                        i32.const 5
                        i32.add
                        i32.store offset=128 align=4
                        i32.const 1
                        local.set 5
                        br 10
                      end
                    end
                    local.get 6
                    local.set 21
                    local.get 15
                    i32.const 2
                    i32.add
                    local.set 15
                    local.get 0
                    local.get 4
                    i32.const 14
                    i32.add
                    i32.store offset=128 align=4
                    local.get 15
                    i32.const 64
                    i32.add
                    local.get 1
                    i32.le_u
                    local.get 0
                    i32.load offset=1800 align=4
                    i32.eqz
                    i32.and
                    br_if 1
                    i32.const 0
                    local.set 5
                    br 8
                  end
                  local.get 20
                  local.set 6
                  local.get 6
                  i32.const 1
                  i32.sub
                  local.set 8
                  local.get 8
                  local.set 20
                  local.get 0
                  i32.load offset=140 align=4
                  i32.const 1
                  i32.and
                  if (result i32)
                    i32.const 32
                    i32.const 8
                    local.get 0
                    i32.load offset=148 align=4
                    i32.shl
                    i32.sub
                    local.set 31
                    local.get 0
                    i32.load offset=160 align=4
                    local.get 31
                    i32.shl
                    local.set 29
                    local.get 0
                    i32.load offset=168 align=4
                    local.get 31
                    i32.shl
                    local.set 30
                    local.get 0
                    i32.load offset=152 align=4
                    local.get 31
                    i32.shl
                    local.set 31
                    local.get 29
                    local.get 30
                    local.get 0
                    i32.load offset=144 align=4
                    i32.const 2
                    i32.lt_u
                    select
                    local.get 31
                    local.get 29
                    local.get 0
                    i32.load offset=144 align=4
                    i32.const 2
                    i32.lt_u
                    select
                    local.set 29
                    local.set 30
                    local.get 29
                    local.get 30
                    i32.le_u
                    local.get 29
                    local.get 30
                    i32.lt_u
                    local.get 0
                    i32.load offset=144 align=4
                    i32.const 1
                    i32.and
                    select
                    local.get 0
                    i32.load offset=144 align=4
                    i32.const 4
                    i32.lt_u
                    i32.and
                  else
                    local.get 0
                    i32.load offset=136 align=4
                    i32.const 0
                    i32.shr_u
                    i32.const 1
                    i32.and
                  end
                  local.set 16
                  local.get 6
                  local.set 25
                  local.get 8
                  local.set 27
                  local.get 16
                  local.set 28
                  local.get 27
                  i32.eqz
                  i32.eqz
                  if
                    local.get 4
                    local.set 9
                    local.get 15
                    i32.const 2
                    i32.add
                    local.set 15
                    local.get 0
                    local.get 4
                    i32.store offset=128 align=4
                    i32.const 0
                    local.set 2
                    local.get 0
                    local.get 0
                    i32.load offset=136 align=4
                    i32.const -2066
                    i32.and
                    local.get 28
                    i32.or
                    local.get 25
                    i32.const -2147483648
                    i32.eq
                    i32.const 11
                    i32.shl
                    i32.or
                    local.get 25
                    local.get 27
                    i32.xor
                    i32.const 16
                    i32.and
                    i32.or
                    i32.store offset=136 align=4
                    local.get 0
                    i32.const 5
                    i32.store offset=144 align=4
                    local.get 0
                    i32.const 2
                    i32.store offset=148 align=4
                    local.get 0
                    local.get 27
                    i32.store offset=152 align=4
                    local.get 0
                    i32.const 196
                    i32.store offset=140 align=4
                    local.get 15
                    i32.const 64
                    i32.add
                    local.get 1
                    i32.le_u
                    local.get 0
                    i32.load offset=1800 align=4
                    i32.eqz
                    i32.and
                    br_if 6
                    i32.const 0
                    local.set 5
                    br 8
                  end
                  local.get 15
                  i32.const 2
                  i32.add
                  local.set 15
                  local.get 0
                  local.get 4
                  i32.const 13
                  i32.add
                  i32.store offset=128 align=4
                  local.get 0
                  local.get 0
                  i32.load offset=136 align=4
                  i32.const -2066
                  i32.and
                  local.get 28
                  i32.or
                  local.get 25
                  i32.const -2147483648
                  i32.eq
                  i32.const 11
                  i32.shl
                  i32.or
                  local.get 25
                  local.get 27
                  i32.xor
                  i32.const 16
                  i32.and
                  i32.or
                  i32.store offset=136 align=4
                  local.get 0
                  i32.const 5
                  i32.store offset=144 align=4
                  local.get 0
                  i32.const 2
                  i32.store offset=148 align=4
                  local.get 0
                  local.get 27
                  i32.store offset=152 align=4
                  local.get 0
                  i32.const 196
                  i32.store offset=140 align=4
                  local.get 15
                  i32.const 64
                  i32.add
                  local.get 1
                  i32.le_u
                  local.get 0
                  i32.load offset=1800 align=4
                  i32.eqz
                  i32.and
                  br_if 1
                  i32.const 0
                  local.set 5
                  br 7
                end
                local.get 17
                local.set 7
                local.get 17
                local.set 6
                local.get 6
                local.get 7
                i32.xor
                local.set 8
                local.get 8
                local.set 17
                local.get 6
                local.set 25
                local.get 7
                local.set 26
                local.get 8
                local.set 27
                i32.const 0
                local.set 7
                local.get 24
                local.get 17
                i32.add
                local.set 10
                block
                  block
                    local.get 13
                    local.get 10
                    i32.const 12
                    i32.shr_u
                    i32.const 2
                    i32.shl
                    i32.add
                    i32.load offset=0 align=4
                    local.tee 14
                    i32.const 1
                    i32.and
                    i32.eqz
                    br_if 0
                    local.get 14
                    i32.const -4096
                    i32.and
                    local.get 10
                    i32.xor
                    i32.load8_u offset=0 align=1
                    local.set 6
                    br 1
                  end
                  i32.const 3
                  local.get 10
                  call 2
                  local.set 6
                  global.get 0
                  if
                    local.get 0
                    local.get 4
                    i32.const 16
                    i32.add
                    i32.store offset=128 align=4
                    i32.const 516
                    local.set 34
                    i32.const 1
                    local.set 5
                    br 7
                  end
                end
                local.get 6
                local.get 7
                i32.sub
                i32.const 255
                i32.and
                local.set 8
                local.get 6
                i32.const 255
                i32.and
                local.set 25
                local.get 7
                i32.const 255
                i32.and
                local.set 26
                local.get 8
                local.set 27
                local.get 27
                i32.eqz
                if
                  local.get 4
                  i32.const 25
                  i32.add
                  local.set 9
                  local.get 15
                  i32.const 3
                  i32.add
                  local.set 15
                  local.get 0
                  local.get 4
                  i32.const 25
                  i32.add
                  i32.store offset=128 align=4
                  local.get 0
                  i32.const 2
                  i32.store offset=144 align=4
                  local.get 0
                  i32.const 0
                  i32.store offset=148 align=4
                  local.get 0
                  local.get 25
                  i32.store offset=160 align=4
                  local.get 0
                  local.get 26
                  i32.store offset=168 align=4
                  local.get 0
                  local.get 27
                  i32.store offset=152 align=4
                  local.get 0
                  i32.const 2261
                  i32.store offset=140 align=4
                  local.get 15
                  i32.const 64
                  i32.add
                  local.get 1
                  i32.le_u
                  local.get 0
                  i32.load offset=1800 align=4
                  i32.eqz
                  i32.and
                  br_if 3
                  i32.const 0
                  local.set 5
                  br 7
                end
                local.get 15
                i32.const 3
                i32.add
                local.set 15
                local.get 0
                local.get 4
                i32.const 22
                i32.add
                i32.store offset=128 align=4
                local.get 0
                i32.const 2
                i32.store offset=144 align=4
                local.get 0
                i32.const 0
                i32.store offset=148 align=4
                local.get 0
                local.get 25
                i32.store offset=160 align=4
                local.get 0
                local.get 26
                i32.store offset=168 align=4
                local.get 0
                local.get 27
                i32.store offset=152 align=4
                local.get 0
                i32.const 2261
                i32.store offset=140 align=4
                local.get 15
                i32.const 64
                i32.add
                local.get 1
                i32.le_u
                local.get 0
                i32.load offset=1800 align=4
                i32.eqz
                i32.and
                br_if 1
                i32.const 0
                local.set 5
                br 6
              end
              local.get 0
              local.get 17
              i32.store offset=0 align=4
              local.get 0
              local.get 18
              i32.store offset=8 align=4
              local.get 0
              local.get 19
              i32.store offset=16 align=4
              local.get 0
              local.get 20
              i32.store offset=24 align=4
              local.get 0
              local.get 21
              i32.store offset=32 align=4
              local.get 0
              local.get 22
              i32.store offset=40 align=4
              local.get 0
              local.get 23
              i32.store offset=48 align=4
              local.get 0
              local.get 24
              i32.store offset=56 align=4
              i32.const 16974832
              local.get 4
              i32.const 13
              i32.add
              call 0
              local.tee 5
              if
                local.get 5
                i32.const 1
                i32.shr_u
                i32.const 0
                i32.add
                local.get 15
                i32.add
                return
              end
              local.get 0
              i32.load offset=0 align=4
              local.set 17
              local.get 0
              i32.load offset=8 align=4
              local.set 18
              local.get 0
              i32.load offset=16 align=4
              local.set 19
              local.get 0
              i32.load offset=24 align=4
              local.set 20
              local.get 0
              i32.load offset=32 align=4
              local.set 21
              local.get 0
              i32.load offset=40 align=4
              local.set 22
              local.get 0
              i32.load offset=48 align=4
              local.set 23
              local.get 0
              i32.load offset=56 align=4
              local.set 24
              local.get 15
              i32.const 1
              i32.add
              local.set 15
              local.get 0
              local.get 4
              i32.const 14
              i32.add
              i32.store offset=128 align=4
              i32.const 2
              local.set 2
              local.get 15
              i32.const 64
              i32.add
              local.get 1
              i32.le_u
              local.get 0
              i32.load offset=1800 align=4
              i32.eqz
              i32.and
              br_if 3
              i32.const 0
              local.set 5
              br 5
            end
            local.get 17
            local.set 6
            local.get 6
            i32.const 1
            i32.add
            local.set 8
            local.get 8
            local.set 17
            local.get 0
            i32.load offset=140 align=4
            i32.const 1
            i32.and
            if (result i32)
              i32.const 32
              i32.const 8
              local.get 0
              i32.load offset=148 align=4
              i32.shl
              i32.sub
              local.set 31
              local.get 0
              i32.load offset=160 align=4
              local.get 31
              i32.shl
              local.set 29
              local.get 0
              i32.load offset=168 align=4
              local.get 31
              i32.shl
              local.set 30
              local.get 0
              i32.load offset=152 align=4
              local.get 31
              i32.shl
              local.set 31
              local.get 29
              local.get 30
              local.get 0
              i32.load offset=144 align=4
              i32.const 2
              i32.lt_u
              select
              local.get 31
              local.get 29
              local.get 0
              i32.load offset=144 align=4
              i32.const 2
              i32.lt_u
              select
              local.set 29
              local.set 30
              local.get 29
              local.get 30
              i32.le_u
              local.get 29
              local.get 30
              i32.lt_u
              local.get 0
              i32.load offset=144 align=4
              i32.const 1
              i32.and
              select
              local.get 0
              i32.load offset=144 align=4
              i32.const 4
              i32.lt_u
              i32.and
            else
              local.get 0
              i32.load offset=136 align=4
              i32.const 0
              i32.shr_u
              i32.const 1
              i32.and
            end
            local.set 16
            local.get 6
            local.set 25
            local.get 8
            local.set 27
            local.get 16
            local.set 28
            local.get 4
            i32.const 16
            i32.add
            local.set 9
            local.get 15
            i32.const 2
            i32.add
            local.set 15
            local.get 0
            local.get 4
            i32.const 16
            i32.add
            i32.store offset=128 align=4
            local.get 0
            local.get 0
            i32.load offset=136 align=4
            i32.const -2066
            i32.and
            local.get 28
            i32.or
            local.get 27
            i32.const -2147483648
            i32.eq
            i32.const 11
            i32.shl
            i32.or
            local.get 25
            local.get 27
            i32.xor
            i32.const 16
            i32.and
            i32.or
            i32.store offset=136 align=4
            local.get 0
            i32.const 5
            i32.store offset=144 align=4
            local.get 0
            i32.const 2
            i32.store offset=148 align=4
            local.get 0
            local.get 27
            i32.store offset=152 align=4
            local.get 0
            i32.const 196
            i32.store offset=140 align=4
            local.get 15
            i32.const 64
            i32.add
            local.get 1
            i32.le_u
            local.get 0
            i32.load offset=1800 align=4
            i32.eqz
            i32.and
            br_if 1
            i32.const 0
            local.set 5
            br 4
          end
          local.get 21
          local.set 6
          local.get 6
          local.set 10
          block
            block
              local.get 10
              i32.const 4095
              i32.and
              i32.const 4092
              i32.gt_u
              br_if 0
              local.get 13
              local.get 10
              i32.const 12
              i32.shr_u
              i32.const 2
              i32.shl
              i32.add
              i32.load offset=0 align=4
              local.tee 14
              i32.const 1
              i32.and
              i32.eqz
              br_if 0
              local.get 14
              i32.const -4096
              i32.and
              local.get 10
              i32.xor
              i32.load offset=0 align=1
              local.set 9
              br 1
            end
            i32.const 2
            local.get 10
            call 4
            local.set 9
            global.get 0
            if
              i32.const 0
              local.set 5
              br 5
            end
          end
          local.get 6
          i32.const 4
          i32.add
          local.set 6
          local.get 6
          local.set 21
          block
            block
              local.get 9
              local.get 4
              i32.const 10
              i32.add
              i32.eq
              if
                i32.const 1
                local.set 2
                br 1
              end
              br 1
            end
            local.get 15
            i32.const 1
            i32.add
            local.set 15
            local.get 0
            local.get 9
            i32.store offset=128 align=4
            local.get 15
            i32.const 64
            i32.add
            local.get 1
            i32.le_u
            local.get 0
            i32.load offset=1800 align=4
            i32.eqz
            i32.and
            br_if 2
            i32.const 0
            local.set 5
            br 4
          end
          local.get 0
          local.get 9
          i32.store offset=128 align=4
          i32.const 1
          local.set 5
          br 3
        end
        i32.const 0
        local.set 7
        local.get 24
        local.get 17
        i32.add
        local.set 10
        block
          block
            local.get 13
            local.get 10
            i32.const 12
            i32.shr_u
            i32.const 2
            i32.shl
            i32.add
            i32.load offset=0 align=4
            local.tee 14
            i32.const 1
            i32.and
            i32.eqz
            br_if 0
            local.get 14
            i32.const -4096
            i32.and
            local.get 10
            i32.xor
            i32.load8_u offset=0 align=1
            local.set 6
            br 1
          end
          i32.const 3
          local.get 10
          call 2
          local.set 6
          global.get 0
          if
            i32.const 0
            local.set 5
            br 4
          end
        end
        local.get 6
        local.get 7
        i32.sub
        i32.const 255
        i32.and
        local.set 8
        local.get 6
        i32.const 255
        i32.and
        local.set 25
        local.get 7
        i32.const 255
        i32.and
        local.set 26
        local.get 8
        local.set 27
        local.get 27
        i32.eqz
        if
          local.get 4
          i32.const 25
          i32.add
          local.set 9
          local.get 15
          i32.const 2
          i32.add
          local.set 15
          local.get 0
          local.get 4
          i32.const 25
          i32.add
          i32.store offset=128 align=4
          i32.const 5
          local.set 2
          local.get 0
          i32.const 2
          i32.store offset=144 align=4
          local.get 0
          i32.const 0
          i32.store offset=148 align=4
          local.get 0
          local.get 25
          i32.store offset=160 align=4
          local.get 0
          local.get 26
          i32.store offset=168 align=4
          local.get 0
          local.get 27
          i32.store offset=152 align=4
          local.get 0
          i32.const 2261
          i32.store offset=140 align=4
          local.get 15
          i32.const 64
          i32.add
          local.get 1
          i32.le_u
          local.get 0
          i32.load offset=1800 align=4
          i32.eqz
          i32.and
          br_if 1
          i32.const 0
          local.set 5
          br 3
        end
        local.get 15
        i32.const 2
        i32.add
        local.set 15
        local.get 0
        local.get 4
        i32.const 22
        i32.add
        i32.store offset=128 align=4
        i32.const 4
        local.set 2
        local.get 0
        i32.const 2
        i32.store offset=144 align=4
        local.get 0
        i32.const 0
        i32.store offset=148 align=4
        local.get 0
        local.get 25
        i32.store offset=160 align=4
        local.get 0
        local.get 26
        i32.store offset=168 align=4
        local.get 0
        local.get 27
        i32.store offset=152 align=4
        local.get 0
        i32.const 2261
        i32.store offset=140 align=4
        local.get 15
        i32.const 64
        i32.add
        local.get 1
        i32.le_u
        local.get 0
        i32.load offset=1800 align=4
        i32.eqz
        i32.and
        br_if 0
        i32.const 0
        local.set 5
        br 2
      end
      unreachable
    end
    local.get 0
    local.get 34
    i32.const 255
    i32.and
    i32.store offset=144 align=4
    local.get 0
    local.get 34
    i32.const 8
    i32.shr_u
    i32.store offset=148 align=4
    local.get 0
    local.get 25
    i32.store offset=160 align=4
    local.get 0
    local.get 26
    i32.store offset=168 align=4
    local.get 0
    local.get 27
    i32.store offset=152 align=4
    local.get 0
    i32.const 2261
    i32.store offset=140 align=4
  end
  local.get 0
  local.get 17
  i32.store offset=0 align=4
  local.get 0
  local.get 18
  i32.store offset=8 align=4
  local.get 0
  local.get 19
  i32.store offset=16 align=4
  local.get 0
  local.get 20
  i32.store offset=24 align=4
  local.get 0
  local.get 21
  i32.store offset=32 align=4
  local.get 0
  local.get 22
  i32.store offset=40 align=4
  local.get 0
  local.get 23
  i32.store offset=48 align=4
  local.get 0
  local.get 24
  i32.store offset=56 align=4
  local.get 5
  local.get 15
  i32.add
)
